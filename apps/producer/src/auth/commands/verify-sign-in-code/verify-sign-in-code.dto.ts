import type { SchemaObject } from '@nestjs/swagger';
import { z } from 'zod';
import { codeField, codeOpenApi } from '../../codes/code.schema';
import { emailField } from '../../credentials.schema';

export const verifySignInCodeSchema = z.object({ email: emailField, code: codeField }).strict();
export type VerifySignInCodeRequest = z.output<typeof verifySignInCodeSchema>;

export const verifySignInCodeOpenApi: SchemaObject = {
  type: 'object',
  required: ['email', 'code'],
  additionalProperties: false,
  properties: { email: { type: 'string', format: 'email', maxLength: 254 }, code: codeOpenApi },
};
