import { ApiProperty, type SchemaObject } from '@nestjs/swagger';
import { z } from 'zod';
import { isValidMailHost } from '@email-core/providers';

/** CR, LF, NUL and the other C0 controls (and DEL): never part of a login, and the stuff of protocol injection */
const hasControlChars = (s: string) => [...s].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);

/** the mailbox's address, trimmed and lower-cased as sign-up takes addresses */
const emailField = z
  .string({ required_error: 'required', invalid_type_error: 'must be a string' })
  .trim()
  .toLowerCase()
  .max(254, 'must be at most 254 characters')
  .email('must be an email address');

const text = (max: number) =>
  z
    .string({ required_error: 'required', invalid_type_error: 'must be a string' })
    .min(1, 'required')
    .max(max, `must be at most ${max} characters`)
    .refine((s) => !hasControlChars(s), 'must not contain control characters');

/**
 * One server as typed: a host name or IP address only (no scheme, port, path or brackets: the port has its own
 * field), a port, how TLS is used, and the login. The password is taken as typed (no trimming, no normalising:
 * the server compares bytes).
 */
const serverSchema = z
  .object({
    host: z
      .string({ required_error: 'required', invalid_type_error: 'must be a string' })
      .trim()
      .toLowerCase()
      .min(1, 'required')
      .max(253, 'must be at most 253 characters')
      .refine(isValidMailHost, 'must be a host name or an IP address (no scheme, port or path)'),
    port: z
      .number({ required_error: 'required', invalid_type_error: 'must be a number' })
      .int('must be a whole number')
      .min(1, 'must be between 1 and 65535')
      .max(65535, 'must be between 1 and 65535'),
    security: z.enum(['tls', 'starttls', 'none'], {
      errorMap: () => ({ message: 'must be "tls", "starttls" or "none"' }),
    }),
    username: text(320),
    password: text(1024),
  })
  .strict();

/** `POST /accounts/imap`'s body; unknown fields are refused, not ignored */
export const linkImapAccountSchema = z
  .object({
    email: emailField,
    imap: serverSchema,
    smtp: serverSchema,
  })
  .strict();

export type LinkImapAccountRequest = z.output<typeof linkImapAccountSchema>;

const serverOpenApi = (defaults: { port: number; security: string }): SchemaObject => ({
  type: 'object',
  required: ['host', 'port', 'security', 'username', 'password'],
  additionalProperties: false,
  properties: {
    host: {
      type: 'string',
      maxLength: 253,
      description: 'a host name or IP address, nothing else (no scheme, port or path)',
      example: 'mail.example.com',
    },
    port: { type: 'integer', minimum: 1, maximum: 65535, example: defaults.port },
    security: {
      type: 'string',
      enum: ['tls', 'starttls', 'none'],
      example: defaults.security,
      description:
        '`tls`: TLS from the first byte; `starttls`: STARTTLS required before the login; `none`: cleartext, ' +
        'refused unless the deployment allows private hosts (development only)',
    },
    username: { type: 'string', minLength: 1, maxLength: 320, example: 'alice@example.com' },
    password: { type: 'string', format: 'password', minLength: 1, maxLength: 1024, writeOnly: true },
  },
});

export const linkImapAccountOpenApi: SchemaObject = {
  type: 'object',
  required: ['email', 'imap', 'smtp'],
  additionalProperties: false,
  properties: {
    email: { type: 'string', format: 'email', maxLength: 254, example: 'alice@example.com' },
    imap: serverOpenApi({ port: 993, security: 'tls' }),
    smtp: serverOpenApi({ port: 587, security: 'starttls' }),
  },
};

export class ImapAccountLinkedDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ enum: ['syncing'], description: 'the first sync has been requested' })
  status!: 'syncing';
}
