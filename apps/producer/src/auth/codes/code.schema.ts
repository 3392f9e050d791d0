import type { SchemaObject } from '@nestjs/swagger';
import { z } from 'zod';
import { normalizeCode } from './one-time-code';

/** six digits; spaces and a dash (as a pasted `123 456` or `123-456`) are ignored */
export const codeField = z
  .string({ required_error: 'required', invalid_type_error: 'must be a string' })
  .max(32, 'must be 6 digits')
  .transform((value, ctx) => {
    const code = normalizeCode(value);
    if (code === null) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be 6 digits' });
      return z.NEVER;
    }
    return code;
  });

export const codeOpenApi: SchemaObject = { type: 'string', pattern: '^[0-9]{6}$', example: '042917' };
