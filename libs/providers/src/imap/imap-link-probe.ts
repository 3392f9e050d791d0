import { createTransport } from 'nodemailer';
import { ProviderRefusedError, ProviderUnavailableError, ReauthRequiredError } from '../port';
import { HostLookupError, HostNotAllowedError, resolveAllowedHost } from './host-guard';
import { withImapSession } from './imap-connection';
import type { ImapRequestCounter } from './imap-request-metrics';
import type { HostPolicy, ImapAccountSettings, MailServerSettings } from './imap-settings';
import { smtpTransportOptions } from './imap-smtp';

/**
 * Why the servers a user typed cannot be linked. Each names the server it concerns and what the user can do:
 * fix the password (`*_AUTH_FAILED`), the host or port (`*_UNREACHABLE`), the security mode or the server's
 * certificate (`*_TLS_FAILED`), or pick a public server (`HOST_NOT_ALLOWED`, `INSECURE_CONNECTION`).
 */
export const MAIL_LINK_FAILURES = [
  'IMAP_AUTH_FAILED',
  'IMAP_UNREACHABLE',
  'IMAP_TLS_FAILED',
  'SMTP_AUTH_FAILED',
  'SMTP_UNREACHABLE',
  'SMTP_TLS_FAILED',
  'HOST_NOT_ALLOWED',
  'INSECURE_CONNECTION',
] as const;
export type MailLinkFailure = (typeof MAIL_LINK_FAILURES)[number];

/**
 * A failed check. `detail` is for the log: the failure's class and code only (never a server's answer, which
 * could quote what was typed), so it never carries a password.
 */
export class MailLinkCheckError extends Error {
  constructor(
    readonly code: MailLinkFailure,
    readonly server: 'imap' | 'smtp',
    readonly detail: string,
  ) {
    super(`${code} (${detail})`);
    this.name = 'MailLinkCheckError';
  }
}

export interface MailLinkCheckOptions {
  /** connecting and the greeting give up after this long (default 10 s) */
  connectTimeoutMs?: number;
  /** counts the IMAP login attempt (imap-request-metrics.ts; the SMTP AUTH probe is not a send) */
  imapRequests?: ImapRequestCounter;
}

/** errors of the TLS layer as node and OpenSSL name them (certificate, protocol, handshake) */
const TLS_CODE = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ALTNAME|EPROTO|HANDSHAKE/i;

/**
 * Logs in to the IMAP server and out again, through the host guard (`withImapSession`: connects to the resolved
 * address, TLS servername = the typed host, the policy's CAs). Resolves when the login worked.
 */
export async function checkImapLogin(
  server: MailServerSettings,
  policy: HostPolicy,
  options: MailLinkCheckOptions = {},
): Promise<void> {
  const timeout = options.connectTimeoutMs ?? 10_000;
  try {
    await withImapSession(server, policy, () => Promise.resolve(), {
      connectTimeoutMs: timeout,
      socketTimeoutMs: timeout * 2,
      ...(options.imapRequests ? { requests: options.imapRequests } : {}),
    });
  } catch (err) {
    throw imapCheckError(err);
  }
}

/** An IMAP session's failure (in the port's words, as imap-connection raises it) as a link check failure. */
export function imapCheckError(err: unknown): MailLinkCheckError {
  if (err instanceof MailLinkCheckError) return err;
  if (err instanceof HostNotAllowedError)
    return new MailLinkCheckError('HOST_NOT_ALLOWED', 'imap', err.reason);
  if (err instanceof HostLookupError)
    return new MailLinkCheckError('IMAP_UNREACHABLE', 'imap', err.lookupCode);
  if (err instanceof ReauthRequiredError) {
    const code = err.providerCode ?? 'login refused';
    if (code === 'HOST_NOT_ALLOWED') return new MailLinkCheckError('HOST_NOT_ALLOWED', 'imap', code);
    if (code === 'INSECURE_CONNECTION') return new MailLinkCheckError('INSECURE_CONNECTION', 'imap', code);
    return new MailLinkCheckError('IMAP_AUTH_FAILED', 'imap', code);
  }
  if (err instanceof ProviderRefusedError) {
    if (err.code === 'HOST_NOT_ALLOWED') return new MailLinkCheckError('HOST_NOT_ALLOWED', 'imap', err.code);
    // a NO/BAD while logging in: LOGINDISABLED, a refused mechanism, …
    return new MailLinkCheckError('IMAP_AUTH_FAILED', 'imap', err.code);
  }
  if (err instanceof ProviderUnavailableError) {
    if (TLS_CODE.test(err.code)) return new MailLinkCheckError('IMAP_TLS_FAILED', 'imap', err.code);
    return new MailLinkCheckError('IMAP_UNREACHABLE', 'imap', err.code);
  }
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    return new MailLinkCheckError(TLS_CODE.test(code) ? 'IMAP_TLS_FAILED' : 'IMAP_UNREACHABLE', 'imap', code);
  }
  return new MailLinkCheckError('IMAP_UNREACHABLE', 'imap', err instanceof Error ? err.name : typeof err);
}

/**
 * Authenticates to the SMTP (submission) server and quits, through the host guard: nodemailer connects to the
 * resolved address with the typed name as TLS servername (the options sending uses, `smtpTransportOptions`), and
 * `forceAuth` makes it try AUTH even when the server
 * offers none (a server that takes mail without a login is not a submission server for this mailbox).
 * `starttls` requires STARTTLS; `none` never upgrades and is refused unless the policy allows private hosts.
 */
export async function checkSmtpLogin(
  server: MailServerSettings,
  policy: HostPolicy,
  options: MailLinkCheckOptions = {},
): Promise<void> {
  if (server.security === 'none' && !policy.allowPrivateHosts) {
    throw new MailLinkCheckError('INSECURE_CONNECTION', 'smtp', 'cleartext SMTP');
  }
  let address: string;
  try {
    address = await resolveAllowedHost(server.host, policy);
  } catch (err) {
    throw smtpCheckError(err);
  }
  const timeout = options.connectTimeoutMs ?? 10_000;
  let transport: ReturnType<typeof createTransport> | undefined;
  try {
    // the sending path's own options (the same TLS and CA rules), and AUTH tried even when not offered
    transport = createTransport({
      ...smtpTransportOptions(server, policy, address, { connectMs: timeout, socketMs: timeout * 2 }),
      forceAuth: true,
    });
    await transport.verify();
  } catch (err) {
    throw smtpCheckError(err);
  } finally {
    transport?.close();
  }
}

/** A nodemailer (or guard) failure as a link check failure. */
export function smtpCheckError(err: unknown): MailLinkCheckError {
  if (err instanceof MailLinkCheckError) return err;
  if (err instanceof HostNotAllowedError)
    return new MailLinkCheckError('HOST_NOT_ALLOWED', 'smtp', err.reason);
  if (err instanceof HostLookupError)
    return new MailLinkCheckError('SMTP_UNREACHABLE', 'smtp', err.lookupCode);
  const e = (typeof err === 'object' && err !== null ? err : {}) as {
    code?: unknown;
    originalCode?: unknown;
  };
  const code = typeof e.code === 'string' ? e.code : undefined;
  const original = typeof e.originalCode === 'string' ? e.originalCode : undefined;
  const detail = [code, original].filter(Boolean).join('/') || (err instanceof Error ? err.name : typeof err);
  if (code === 'EAUTH' || code === 'ENOAUTH')
    return new MailLinkCheckError('SMTP_AUTH_FAILED', 'smtp', detail);
  if (
    code === 'ETLS' ||
    (original !== undefined && TLS_CODE.test(original)) ||
    (code && TLS_CODE.test(code))
  ) {
    return new MailLinkCheckError('SMTP_TLS_FAILED', 'smtp', detail);
  }
  return new MailLinkCheckError('SMTP_UNREACHABLE', 'smtp', detail);
}

/** Both checks, IMAP first: resolves when both servers took the logins. */
export async function checkMailAccountSettings(
  settings: ImapAccountSettings,
  policy: HostPolicy,
  options?: MailLinkCheckOptions,
): Promise<void> {
  await checkImapLogin(settings.imap, policy, options);
  await checkSmtpLogin(settings.smtp, policy, options);
}
