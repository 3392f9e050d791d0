import { isIP } from 'node:net';
import { rootCertificates } from 'node:tls';
import { createTransport } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import { ProviderRefusedError, ReauthRequiredError } from '../port';
import { HostLookupError, resolveAllowedHost } from './host-guard';
import { smtpError } from './imap-errors';
import { smtpRequestStatus, type SmtpRequestCounter } from './imap-request-metrics';
import type { HostPolicy, MailServerSettings } from './imap-settings';

/**
 * Sending through the user's SMTP server with nodemailer. The host is resolved once by the SSRF guard
 * (`resolveAllowedHost`) and the connection goes to that address, the typed name being the TLS servername (the
 * certificate is checked against it). `security`: 'tls' → implicit TLS; 'starttls' → STARTTLS required (the
 * login never goes in the clear); 'none' → cleartext, only where the policy allows private hosts (the stack's
 * own server, tests). The policy's CAs are trusted beside the system's.
 */

export type HostResolver = (host: string, policy: HostPolicy) => Promise<string>;

export interface SmtpTimeouts {
  connectMs?: number;
  socketMs?: number;
}

/** nodemailer's options for the server, connecting to `address` (what the guard resolved the host to). */
export function smtpTransportOptions(
  server: MailServerSettings,
  policy: HostPolicy,
  address: string,
  timeouts: SmtpTimeouts = {},
): SMTPTransport.Options {
  const servername = isIP(server.host) === 0 ? server.host : undefined;
  return {
    host: address,
    port: server.port,
    secure: server.security === 'tls',
    requireTLS: server.security === 'starttls',
    ignoreTLS: server.security === 'none',
    auth: { user: server.username, pass: server.password },
    tls: {
      // the policy's CAs beside the system's (a `ca` option alone would replace them)
      ...(policy.ca?.length ? { ca: [...rootCertificates, ...policy.ca] } : {}),
      ...(servername ? { servername } : {}),
      minVersion: 'TLSv1.2',
    },
    connectionTimeout: timeouts.connectMs ?? 15_000,
    greetingTimeout: timeouts.connectMs ?? 15_000,
    socketTimeout: timeouts.socketMs ?? 60_000,
    logger: false,
    debug: false,
  };
}

/**
 * nodemailer's refusal of a message larger than the server's advertised SIZE (raised after EHLO, before MAIL
 * FROM: nothing was sent) as a refusal that says why, instead of a transient failure to retry.
 */
function tooLargeForServer(err: unknown, size: number): ProviderRefusedError | undefined {
  const e = err as { code?: unknown; message?: unknown };
  const m = typeof e.message === 'string' ? /larger than allowed (\d+)/.exec(e.message) : null;
  if (e.code !== 'EMESSAGE' || !m) return undefined;
  return new ProviderRefusedError(
    413,
    'MESSAGE_TOO_LARGE',
    `the mail is ${size} bytes once encoded, and the SMTP server takes at most ${m[1]} (the SIZE it advertises); ` +
      'nothing was sent',
  );
}

/**
 * Sends a raw message to the envelope's recipients, as is (the same bytes go to Sent). Failures come out as
 * port errors (imap-errors.ts `smtpError`: which of them certainly sent nothing).
 */
export async function sendRawMail(
  server: MailServerSettings,
  policy: HostPolicy,
  envelope: { from: string; to: string[] },
  raw: Buffer,
  opts: {
    resolveHost?: HostResolver;
    timeouts?: SmtpTimeouts;
    /**
     * counts the send (imap-request-metrics.ts): a name that does not resolve is an `error`; a host the policy
     * refuses is never tried and not counted
     */
    requests?: SmtpRequestCounter;
  } = {},
): Promise<void> {
  if (server.security === 'none' && !policy.allowPrivateHosts) {
    throw new ReauthRequiredError('a cleartext SMTP connection is not allowed', 'INSECURE_CONNECTION');
  }
  let transport: ReturnType<typeof createTransport<SMTPTransport.SentMessageInfo>> | undefined;
  try {
    let address: string;
    try {
      address = await (opts.resolveHost ?? resolveAllowedHost)(server.host, policy);
    } catch (err) {
      if (err instanceof HostLookupError) opts.requests?.('error');
      throw err;
    }
    transport = createTransport(smtpTransportOptions(server, policy, address, opts.timeouts));
    try {
      // the size lets nodemailer hold it against the SIZE the server advertised in EHLO (RFC 1870) before MAIL
      // FROM, and tells the server in MAIL FROM's SIZE= parameter
      await transport.sendMail({ envelope: { ...envelope, size: raw.length }, raw });
    } catch (err) {
      opts.requests?.(smtpRequestStatus(err));
      throw tooLargeForServer(err, raw.length) ?? err;
    }
    opts.requests?.('ok');
  } catch (err) {
    throw smtpError(err);
  } finally {
    transport?.close();
  }
}
