import type { SchemaObject } from '@nestjs/swagger';
import { z } from 'zod';
import { codeField, codeOpenApi } from '../../codes/code.schema';

export const verifyEmailSchema = z.object({ code: codeField }).strict();
export type VerifyEmailRequest = z.output<typeof verifyEmailSchema>;

export const verifyEmailOpenApi: SchemaObject = {
  type: 'object',
  required: ['code'],
  additionalProperties: false,
  properties: { code: codeOpenApi },
};

export const emailVerifiedOpenApi: SchemaObject = {
  type: 'object',
  required: ['emailVerifiedAt'],
  properties: { emailVerifiedAt: { type: 'string', format: 'date-time' } },
};
