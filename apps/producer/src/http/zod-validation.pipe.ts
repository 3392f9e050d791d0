import type { PipeTransform } from '@nestjs/common';
import type { ZodType, ZodTypeDef } from 'zod';
import { AppError } from './app-error';

/** One failed rule: where (`password`, `items.2.id`), which rule (zod's issue code), and a readable message. */
export interface ValidationIssue {
  path: string;
  code: string;
  message: string;
}

/** more items than any request schema takes (the largest is 500) */
export const MAX_INPUT_ARRAY_ITEMS = 1000;
/** deeper than any request shape nests */
export const MAX_INPUT_DEPTH = 32;

/**
 * Validates (and normalises) a request part against a zod schema: `@Body(new ZodValidationPipe(schema))`.
 * A failure is 400 `VALIDATION_FAILED` with `details: ValidationIssue[]` naming each field and rule.
 *
 * Before zod sees the value, its shape is bounded (`inputShapeProblem`): zod v3 checks an array's items even when
 * the array is already too long, and builds an Error (with a stack trace) per failed union member, so 10,000
 * hostile items under a union blocked the event loop for 1.4 s (issue 16's fuzz test); and it recurses, so JSON
 * nested 10,000 deep would overflow the stack.
 */
export class ZodValidationPipe<T> implements PipeTransform<unknown, T> {
  constructor(private readonly schema: ZodType<T, ZodTypeDef, unknown>) {}

  transform(value: unknown): T {
    const shape = inputShapeProblem(value);
    if (shape) {
      throw new AppError('VALIDATION_FAILED', 'invalid', `${shape.path || '(root)'}: ${shape.message}`, {
        details: [{ path: shape.path, code: shape.code, message: shape.message }],
      });
    }
    const parsed = this.schema.safeParse(value);
    if (parsed.success) return parsed.data;
    const details: ValidationIssue[] = parsed.error.issues.map((i) => ({
      path: i.path.join('.'),
      code: i.code,
      message: i.message,
    }));
    const summary = details.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message)).join('; ');
    throw new AppError('VALIDATION_FAILED', 'invalid', summary || 'the request is invalid', { details });
  }
}

/**
 * The first place where `value` has an array longer than MAX_INPUT_ARRAY_ITEMS or nests deeper than
 * MAX_INPUT_DEPTH, walked without recursion (any depth is safe to look at), or undefined when there is none.
 */
export function inputShapeProblem(value: unknown): ValidationIssue | undefined {
  const stack: Array<{ value: unknown; path: Array<string | number>; depth: number }> = [
    { value, path: [], depth: 0 },
  ];
  while (stack.length > 0) {
    const { value: v, path, depth } = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= MAX_INPUT_DEPTH) {
      return {
        path: path.join('.'),
        code: 'too_deep',
        message: `nested more than ${MAX_INPUT_DEPTH} levels`,
      };
    }
    if (Array.isArray(v)) {
      if (v.length > MAX_INPUT_ARRAY_ITEMS) {
        return {
          path: path.join('.'),
          code: 'too_big',
          message: `an array may have at most ${MAX_INPUT_ARRAY_ITEMS} items`,
        };
      }
      v.forEach((item: unknown, i) => stack.push({ value: item, path: [...path, i], depth: depth + 1 }));
    } else {
      for (const [k, item] of Object.entries(v))
        stack.push({ value: item, path: [...path, k], depth: depth + 1 });
    }
  }
  return undefined;
}
