import {
  CredentialsNotFoundError,
  CursorLostError,
  ProviderRefusedError,
  ProviderUnavailableError,
  ReauthRequiredError,
  WatchLifetimeRejectedError,
} from '../port';
import { HostLookupError, HostNotAllowedError } from './host-guard';

/**
 * The IMAP and SMTP adapters' failures as the port's errors:
 *
 * - IMAP: a login refused (`authenticationFailed`, `[AUTHENTICATIONFAILED]`) is `ReauthRequiredError`; a tagged
 *   NO/BAD is `ProviderRefusedError` (404 for `[NONEXISTENT]`/`[TRYCREATE]`/a missing mailbox, 403 for `[NOPERM]`,
 *   507 for `[OVERQUOTA]`, 400 otherwise), except the response codes RFC 5530 names transient (`[UNAVAILABLE]`,
 *   `[INUSE]`, `[SERVERBUG]`, `[LIMIT]`), which are `ProviderUnavailableError` 503 like throttling (429) and every
 *   connection failure (closed socket, timeouts, TLS, DNS: status 0, the code of the failure).
 * - SMTP (nodemailer): `EAUTH` is `ReauthRequiredError`; a 5xx answer is `ProviderRefusedError` 400 (`SMTP_<code>`);
 *   a 4xx answer or a failure before the message data went out (connecting, TLS, greeting, envelope) is
 *   `ProviderUnavailableError` 503 (nothing was sent); a failure while or after the data went out is
 *   `ProviderUnavailableError` 504 `SMTP_OUTCOME_UNKNOWN` (the mail may have been sent).
 * - The host guard: a host the policy refuses is `ReauthRequiredError` `HOST_NOT_ALLOWED`; a name that does
 *   not resolve is `ProviderUnavailableError` 503 `HOST_LOOKUP_FAILED`.
 *
 * The port's own errors pass through unchanged. Messages never carry a password: IMAP/SMTP answers do not echo it.
 */

/** ErrorItemNotFound: the code the port's users (and Graph) give a missing message or folder. */
export const ITEM_NOT_FOUND = 'ErrorItemNotFound';

export function itemNotFound(what: string): ProviderRefusedError {
  return new ProviderRefusedError(404, ITEM_NOT_FOUND, what);
}

const PORT_ERRORS = [
  CredentialsNotFoundError,
  CursorLostError,
  ProviderRefusedError,
  ProviderUnavailableError,
  ReauthRequiredError,
  WatchLifetimeRejectedError,
];

const TRANSIENT_IMAP_CODES = new Set(['UNAVAILABLE', 'INUSE', 'SERVERBUG', 'LIMIT']);

interface ImapLikeError {
  message?: unknown;
  code?: unknown;
  responseStatus?: unknown;
  responseText?: unknown;
  serverResponseCode?: unknown;
  authenticationFailed?: unknown;
  mailboxMissing?: unknown;
  throttleReset?: unknown;
}

interface SmtpLikeError {
  message?: unknown;
  code?: unknown;
  responseCode?: unknown;
  command?: unknown;
  response?: unknown;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function passThrough(err: unknown): Error | null {
  if (PORT_ERRORS.some((E) => err instanceof E)) return err as Error;
  // settings the policy refuses: only the user can fix them, by linking again (as imap-connection.ts does)
  if (err instanceof HostNotAllowedError) return new ReauthRequiredError(err.message, err.code);
  if (err instanceof HostLookupError) return new ProviderUnavailableError(503, err.code, err.message);
  return null;
}

/** An error raised by imapflow (or anything else during an IMAP call) as a port error. */
export function imapError(err: unknown): Error {
  const known = passThrough(err);
  if (known) return known;
  const e = (typeof err === 'object' && err !== null ? err : {}) as ImapLikeError;
  const message = str(e.message) ?? String(err);
  const responseCode = str(e.serverResponseCode)?.toUpperCase();
  const text = str(e.responseText) ?? message;
  if (e.authenticationFailed === true || responseCode === 'AUTHENTICATIONFAILED') {
    return new ReauthRequiredError(
      'the IMAP server refused the login',
      responseCode ?? 'AUTHENTICATIONFAILED',
    );
  }
  if (e.code === 'ETHROTTLE') {
    const reset = typeof e.throttleReset === 'number' ? e.throttleReset : undefined;
    return new ProviderUnavailableError(429, 'ETHROTTLE', message, reset);
  }
  if (e.responseStatus === 'NO' || e.responseStatus === 'BAD') {
    if (responseCode && TRANSIENT_IMAP_CODES.has(responseCode)) {
      return new ProviderUnavailableError(503, responseCode, text);
    }
    if (e.mailboxMissing === true || responseCode === 'NONEXISTENT' || responseCode === 'TRYCREATE') {
      return itemNotFound(text);
    }
    if (responseCode === 'NOPERM') return new ProviderRefusedError(403, responseCode, text);
    if (responseCode === 'OVERQUOTA') return new ProviderRefusedError(507, responseCode, text);
    return new ProviderRefusedError(400, responseCode ?? `IMAP_${e.responseStatus}`, text);
  }
  return new ProviderUnavailableError(0, str(e.code) ?? 'IMAP_FAILURE', message);
}

/** Commands of nodemailer's SMTP connection before the message data: a failure there sent nothing. */
const SMTP_BEFORE_DATA = new Set([
  'CONN',
  'EHLO',
  'HELO',
  'LHLO',
  'STARTTLS',
  'AUTH',
  'MAIL FROM',
  'RCPT TO',
]);
const SMTP_NOTHING_SENT_CODES = new Set([
  'ECONNECTION',
  'ETLS',
  'EDNS',
  'EENVELOPE',
  'EAUTH',
  'ENOAUTH',
  'EPROXY',
]);

/** An error raised by nodemailer while sending, as a port error. */
export function smtpError(err: unknown): Error {
  const known = passThrough(err);
  if (known) return known;
  const e = (typeof err === 'object' && err !== null ? err : {}) as SmtpLikeError;
  const message = str(e.message) ?? String(err);
  const code = str(e.code);
  const command = str(e.command)?.toUpperCase();
  const status = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  if (code === 'EAUTH') return new ReauthRequiredError('the SMTP server refused the login', 'EAUTH');
  const beforeData =
    (code !== undefined && SMTP_NOTHING_SENT_CODES.has(code)) ||
    (command !== undefined && SMTP_BEFORE_DATA.has(command));
  if (status !== undefined && status >= 500 && status < 600) {
    // a permanent refusal; after DATA the server answered that it did not take the message either
    return new ProviderRefusedError(400, `SMTP_${status}`, message);
  }
  if ((status !== undefined && status >= 400 && status < 500) || beforeData) {
    return new ProviderUnavailableError(
      503,
      status !== undefined ? `SMTP_${status}` : (code ?? 'SMTP'),
      message,
    );
  }
  return new ProviderUnavailableError(504, 'SMTP_OUTCOME_UNKNOWN', message);
}

/** Runs an IMAP call, raising its failures as port errors. */
export async function imapCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw imapError(err);
  }
}
