import { isIP } from 'node:net';
import type { MailConfig } from '@email-core/config';

/** One outgoing system mail, as the transport takes it. */
export interface OutgoingSystemMail {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** `<mailId@domain>`: the same on every send of one outbox row */
  messageId: string;
}

/** What the mailer needs of nodemailer: send one mail, fail on any refusal. Tests give a stream transport. */
export interface MailTransport {
  sendMail(mail: OutgoingSystemMail): Promise<{ accepted: unknown[]; rejected: unknown[] }>;
  close(): void;
}

export const MAIL_TRANSPORT = Symbol('MAIL_TRANSPORT');

/**
 * nodemailer's SMTP options from `SMTP_URL`: `smtps://` is TLS from the start; `smtp://` upgrades with STARTTLS
 * when the server offers it and insists on it whenever credentials are set (they never cross in clear);
 * `SMTP_CA_FILE`'s CAs are trusted for this connection only. Timeouts are bounded, so a dead server fails the
 * send (and the message goes to the retry topic) rather than hanging its partition.
 */
export function smtpOptions(mail: MailConfig) {
  const url = new URL(mail.smtpUrl);
  const secure = url.protocol === 'smtps:';
  const user = decodeURIComponent(url.username);
  const pass = decodeURIComponent(url.password);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    host,
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    requireTLS: !secure && user.length > 0,
    ...(user ? { auth: { user, pass } } : {}),
    tls: {
      // SNI takes names only (RFC 6066); an IP is still checked against the certificate's IP addresses
      ...(isIP(host) ? {} : { servername: host }),
      ...(mail.extraCa ? { ca: mail.extraCa.pem } : {}),
    },
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}
