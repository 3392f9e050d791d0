import {
  BadGatewayException,
  BadRequestException,
  HttpException,
  NotFoundException,
  UnprocessableEntityException,
} from '@nestjs/common';
import type { MailLinkFailure } from '@email-core/providers';

/**
 * The errors of linking and managing accounts, each with a stable code in the API's `{error, message}` body.
 * Messages are shown to the client as-is: they never carry a code, a token or a provider's raw answer.
 */
export const AccountErrors = {
  invalidState: () =>
    new BadRequestException({
      error: 'INVALID_STATE',
      message: 'the sign-in request is unknown, expired or was already used; start linking again',
    }),
  consentDenied: () =>
    new BadRequestException({
      error: 'CONSENT_DENIED',
      message: 'access to the mailbox was not granted at Microsoft; nothing was linked',
    }),
  authorizationFailed: (providerError: string) =>
    new BadRequestException({
      error: 'AUTHORIZATION_FAILED',
      message: `Microsoft did not authorize the request (${providerError}); nothing was linked`,
    }),
  missingCode: () =>
    new BadRequestException({
      error: 'MISSING_CODE',
      message: 'the callback carries no authorization code; nothing was linked',
    }),
  codeRejected: () =>
    new BadRequestException({
      error: 'CODE_REJECTED',
      message: 'Microsoft rejected the authorization code (expired or already used); start linking again',
    }),
  providerUnavailable: () =>
    new BadGatewayException({
      error: 'IDENTITY_PROVIDER_ERROR',
      message: 'the Microsoft identity platform could not complete the sign-in; try again',
    }),
  accountNotFound: () => new NotFoundException({ error: 'ACCOUNT_NOT_FOUND', message: 'no such account' }),
  /** 422: the request was well-formed, but the servers (or the SSRF rule) refused what it names */
  imapLinkFailed: (code: MailLinkFailure, server: 'imap' | 'smtp') =>
    new UnprocessableEntityException({
      error: code,
      message: `${IMAP_LINK_MESSAGES[code](server.toUpperCase())}; nothing was linked`,
      details: { server },
    }),
} as const;

/** What each failed check tells the user (never the server's own answer, which could quote what was typed). */
const IMAP_LINK_MESSAGES: Record<MailLinkFailure, (server: string) => string> = {
  IMAP_AUTH_FAILED: () => 'the IMAP server refused the login: check the user name and password',
  IMAP_UNREACHABLE: () => 'the IMAP server could not be reached at that host and port',
  IMAP_TLS_FAILED: () =>
    "no trusted TLS connection to the IMAP server: check the security mode and port (the server's certificate must be valid for the host name)",
  SMTP_AUTH_FAILED: () => 'the SMTP server refused the login: check the user name and password',
  SMTP_UNREACHABLE: () => 'the SMTP server could not be reached at that host and port',
  SMTP_TLS_FAILED: () =>
    "no trusted TLS connection to the SMTP server: check the security mode and port (the server's certificate must be valid for the host name)",
  HOST_NOT_ALLOWED: (server) =>
    `the ${server} host is a loopback, private, link-local or otherwise reserved address, which cannot be linked`,
  INSECURE_CONNECTION: (server) =>
    `a cleartext ${server} connection (security "none") is not allowed: use "tls" or "starttls"`,
};

/**
 * The codes a failed OAuth callback can end with. The callback is a browser's stop on its way back from
 * Microsoft, so it answers them with a redirect to the dashboard (`/#/accounts?linkError=<CODE>`), which explains
 * each one, rather than with a JSON page.
 */
export const LINK_ERROR_CODES = [
  'INVALID_STATE',
  'CONSENT_DENIED',
  'AUTHORIZATION_FAILED',
  'MISSING_CODE',
  'CODE_REJECTED',
  'IDENTITY_PROVIDER_ERROR',
] as const;
export type LinkErrorCode = (typeof LINK_ERROR_CODES)[number];

/** The link error an exception of the callback stands for, if it is one. */
export function linkErrorCodeOf(err: unknown): LinkErrorCode | undefined {
  if (!(err instanceof HttpException)) return undefined;
  const body = err.getResponse();
  const code = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined;
  return LINK_ERROR_CODES.find((c) => c === code);
}
