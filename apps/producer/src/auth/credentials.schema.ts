import type { SchemaObject } from '@nestjs/swagger';
import { z } from 'zod';

/** Trimmed and lower-cased, so the rate limiter and the database see one spelling of an address. */
export const emailField = z
  .string({ required_error: 'required', invalid_type_error: 'must be a string' })
  .trim()
  .toLowerCase()
  .max(254, 'must be at most 254 characters')
  .email('must be an email address');

/** Passwords are taken as typed (no trimming), in Unicode NFC so one password typed on two systems is one. */
export const newPasswordField = z
  .string({ required_error: 'required', invalid_type_error: 'must be a string' })
  .min(10, 'must be at least 10 characters')
  .max(256, 'must be at most 256 characters')
  .transform((p) => p.normalize('NFC'));

/** Sign-in accepts any non-empty password up to the same bound, so a policy change never locks anyone out. */
export const passwordField = z
  .string({ required_error: 'required', invalid_type_error: 'must be a string' })
  .min(1, 'required')
  .max(256, 'must be at most 256 characters')
  .transform((p) => p.normalize('NFC'));

export const credentialsOpenApi: SchemaObject = {
  type: 'object',
  required: ['email', 'password'],
  additionalProperties: false,
  properties: {
    email: { type: 'string', format: 'email', maxLength: 254 },
    password: { type: 'string', format: 'password', minLength: 10, maxLength: 256 },
  },
};
