import type { PipeTransform } from '@nestjs/common';
import type { ZodType, ZodTypeDef } from 'zod';
import { AppError } from './app-error';

/** One failed rule: where (`password`, `items.2.id`), which rule (zod's issue code), and a readable message. */
export interface ValidationIssue {
  path: string;
  code: string;
  message: string;
}

/**
 * Validates (and normalises) a request part against a zod schema: `@Body(new ZodValidationPipe(schema))`.
 * A failure is 400 `VALIDATION_FAILED` with `details: ValidationIssue[]` naming each field and rule.
 */
export class ZodValidationPipe<T> implements PipeTransform<unknown, T> {
  constructor(private readonly schema: ZodType<T, ZodTypeDef, unknown>) {}

  transform(value: unknown): T {
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
