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

  it('reports a missing body at the root', () => {
    expect(() => pipe.transform(undefined)).toThrow(AppError);
  });
});
