import type { SchemaObject } from '@nestjs/swagger';
import { z } from 'zod';
import { emailField } from '../../credentials.schema';

export const requestSignInCodeSchema = z.object({ email: emailField }).strict();
export type RequestSignInCodeRequest = z.output<typeof requestSignInCodeSchema>;

export const requestSignInCodeOpenApi: SchemaObject = {
  type: 'object',
  required: ['email'],
  additionalProperties: false,
  properties: { email: { type: 'string', format: 'email', maxLength: 254 } },
};

/** The one answer of every accepted request, whether the address has an account or not. */
export interface CodeRequestedResponse {
  status: 'accepted';
  message: string;
}

export function codeRequestedResponse(validSeconds: number): CodeRequestedResponse {
  const minutes = Math.max(1, Math.round(validSeconds / 60));
  return {
    status: 'accepted',
    message: `If this address can receive mail, a sign-in code is on its way. It works for ${minutes} minutes.`,
  };
}

export const codeRequestedOpenApi: SchemaObject = {
  type: 'object',
  required: ['status', 'message'],
  properties: { status: { type: 'string', enum: ['accepted'] }, message: { type: 'string' } },
};
