import { z } from 'zod';

/**
 * The demo IMAP mailbox `npm start` fills on the stack's mail server, offered to the dashboard's "Use the demo
 * mailbox" button through `GET /api/v1/dev/demo-imap`. Development only: outside `NODE_ENV=development` these
 * variables are ignored (the endpoint answers 404), so a deployment never hands out a password this way.
 *
 * - `DEMO_IMAP_EMAIL`: the mailbox's address (also both logins)
 * - `DEMO_IMAP_PASSWORD`: its password (the stack's DEV_MAIL_PASSWORD)
 * - `DEMO_IMAP_URL`: `imaps://host:port` (TLS) or `imap://host:port` (STARTTLS)
 * - `DEMO_SMTP_URL`: `smtp://host:port` (STARTTLS) or `smtps://host:port` (TLS)
 */
export const demoImapEnvShape = {
  DEMO_IMAP_EMAIL: z.string().email('must be an email address').optional(),
  DEMO_IMAP_PASSWORD: z.string().optional(),
  DEMO_IMAP_URL: z.string().optional(),
  DEMO_SMTP_URL: z.string().optional(),
} as const;

export interface DemoMailServer {
  host: string;
  port: number;
  security: 'tls' | 'starttls';
}

export interface DemoImapConfig {
  email: string;
  password: string;
  imap: DemoMailServer;
  smtp: DemoMailServer;
}

const SCHEMES: Record<string, { security: 'tls' | 'starttls'; protocol: 'imap' | 'smtp' }> = {
  'imaps:': { security: 'tls', protocol: 'imap' },
  'imap:': { security: 'starttls', protocol: 'imap' },
  'smtps:': { security: 'tls', protocol: 'smtp' },
  'smtp:': { security: 'starttls', protocol: 'smtp' },
};

/** `imaps://host:port` and its kin as a server, or undefined when it is not one of `protocol`'s URLs with a port. */
export function parseDemoServerUrl(value: string, protocol: 'imap' | 'smtp'): DemoMailServer | undefined {
  try {
    const u = new URL(value);
    const scheme = SCHEMES[u.protocol];
    const port = Number(u.port);
    if (!scheme || scheme.protocol !== protocol || !u.hostname || !Number.isInteger(port) || port <= 0) {
      return undefined;
    }
    return { host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port, security: scheme.security };
  } catch {
    return undefined;
  }
}

/**
 * The demo mailbox's settings, or null: outside development, or when any of the four variables is missing or
 * malformed (a partial or broken demo setting only hides the button; it never stops the producer).
 */
export function toDemoImapConfig(env: {
  NODE_ENV: string;
  DEMO_IMAP_EMAIL?: string;
  DEMO_IMAP_PASSWORD?: string;
  DEMO_IMAP_URL?: string;
  DEMO_SMTP_URL?: string;
}): DemoImapConfig | null {
  if (env.NODE_ENV !== 'development') return null;
  if (!env.DEMO_IMAP_EMAIL || !env.DEMO_IMAP_PASSWORD || !env.DEMO_IMAP_URL || !env.DEMO_SMTP_URL)
    return null;
  const imap = parseDemoServerUrl(env.DEMO_IMAP_URL, 'imap');
  const smtp = parseDemoServerUrl(env.DEMO_SMTP_URL, 'smtp');
  if (!imap || !smtp) return null;
  return { email: env.DEMO_IMAP_EMAIL, password: env.DEMO_IMAP_PASSWORD, imap, smtp };
}
