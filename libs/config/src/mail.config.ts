import { z } from 'zod';
import { caFile } from './microsoft.config';

/** `smtp://[user:password@]host:port` (STARTTLS when offered; required on 587 and 2587) or `smtps://` (TLS) */
const smtpUrl = z
  .string()
  .default('smtp://127.0.0.1:2587')
  .refine((s) => {
    try {
      const u = new URL(s);
      return (u.protocol === 'smtp:' || u.protocol === 'smtps:') && u.hostname.length > 0;
    } catch {
      return false;
    }
  }, 'must be an smtp:// or smtps:// URL, e.g. smtp://user:password@127.0.0.1:2587');

/** `Name <address>` or a bare address */
const mailFrom = z
  .string()
  .default('Email Core <no-reply@email-core.localhost>')
  .refine(
    (s) =>
      z
        .string()
        .email()
        .safeParse(s.match(/<([^<>]+)>\s*$/)?.[1] ?? s.trim()).success,
    'must be an address or "Name <address>"',
  );

/** The consumer's mailer (system mail: sign-in codes, address verification). */
export const mailEnvShape = {
  SMTP_URL: smtpUrl,
  SMTP_CA_FILE: caFile,
  MAIL_FROM: mailFrom,
} as const;

export interface MailConfig {
  /** where system mail is submitted; credentials, if any, in the URL (never logged) */
  smtpUrl: string;
  /** `SMTP_CA_FILE`: extra CA certificates trusted for the SMTP connection only (the stack's local CA) */
  extraCa?: { file: string; pem: string };
  /** the From of every system mail; its domain also names the Message-IDs */
  from: string;
  /** the From's domain: `Message-ID: <mailId@domain>` */
  messageIdDomain: string;
}

export function toMailConfig(env: {
  SMTP_URL: string;
  SMTP_CA_FILE?: { file: string; pem: string };
  MAIL_FROM: string;
}): MailConfig {
  const address = env.MAIL_FROM.match(/<([^<>]+)>\s*$/)?.[1] ?? env.MAIL_FROM.trim();
  return {
    smtpUrl: env.SMTP_URL,
    ...(env.SMTP_CA_FILE ? { extraCa: env.SMTP_CA_FILE } : {}),
    from: env.MAIL_FROM,
    messageIdDomain: address.slice(address.lastIndexOf('@') + 1).toLowerCase(),
  };
}
