import { z } from 'zod';
import { AppError } from './app-error';
import { ZodValidationPipe } from './zod-validation.pipe';

describe('ZodValidationPipe', () => {
  const pipe = new ZodValidationPipe(
    z.object({ name: z.string().trim().min(1), tags: z.array(z.string()).max(2).default([]) }),
  );

  it('returns the parsed, normalised value', () => {
    expect(pipe.transform({ name: '  ada ', extra: 1 })).toEqual({ name: 'ada', tags: [] });
  });

  it('throws 400 VALIDATION_FAILED listing each failed rule with its path and zod code', () => {
    let error: unknown;
    try {
      pipe.transform({ name: '', tags: ['a', 'b', 7] });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(AppError);
    const e = error as AppError;
    expect(e.code).toBe('VALIDATION_FAILED');
    expect(e.kind).toBe('invalid');
    expect(e.details).toEqual([
      { path: 'name', code: 'too_small', message: expect.any(String) as string },
      { path: 'tags', code: 'too_big', message: expect.any(String) as string },
      { path: 'tags.2', code: 'invalid_type', message: expect.any(String) as string },
    ]);
    expect(e.message).toMatch(/^name: .*; tags: .*; tags\.2: /);
  });

  it('refuses an array of more than 1,000 items or JSON nested over 32 deep before zod walks it (issue 16)', () => {
    const union = new ZodValidationPipe(
      z.object({ items: z.array(z.union([z.string().uuid(), z.object({ id: z.string() })])).max(500) }),
    );
    const t0 = performance.now();
    const errorOf = (value: unknown) => {
      try {
        union.transform(value);
      } catch (err) {
        return err as AppError;
      }
      throw new Error('accepted');
    };
    expect(errorOf({ items: Array.from({ length: 10_000 }, () => 42) }).details).toEqual([
      { path: 'items', code: 'too_big', message: 'an array may have at most 1000 items' },
    ]);
    let deep: unknown = 1;
    for (let i = 0; i < 10_000; i++) deep = { a: deep };
    expect(errorOf({ items: deep }).details).toEqual([
      {
        path: `items${'.a'.repeat(31)}`,
        code: 'too_deep',
        message: 'nested more than 32 levels',
      },
    ]);
    expect(performance.now() - t0).toBeLessThan(100);
    // up to the limits, zod decides as before
    expect(errorOf({ items: Array.from({ length: 1000 }, () => 42) }).details).toContainEqual(
      expect.objectContaining({ path: 'items', code: 'too_big' }),
    );
  });

  it('reports a missing body at the root', () => {
    expect(() => pipe.transform(undefined)).toThrow(AppError);
  });
});
