import { booleanFlag } from './fields';
import { caFile } from './microsoft.config';

/**
 * How the IMAP/SMTP adapter may reach the mail servers users type in (both apps: the producer probes a server
 * when an account is linked, the consumer syncs it).
 *
 * - `IMAP_ALLOW_PRIVATE_HOSTS` (default false): loopback, private and reserved addresses allowed. Off, the SSRF
 *   guard refuses every host that resolves to one; `npm start` and the tests turn it on for the stack's own mail
 *   server on 127.0.0.1. Never on in a deployment.
 * - `IMAP_CA_FILE` (optional): a PEM file of extra CA certificates trusted for those connections, beside the
 *   system's (the stack's local CA in development).
 */
export const imapEnvShape = {
  IMAP_ALLOW_PRIVATE_HOSTS: booleanFlag(false),
  IMAP_CA_FILE: caFile,
} as const;

/** The adapter's host policy (structurally the providers' `HostPolicy`). */
export interface ImapHostConfig {
  allowPrivateHosts: boolean;
  /** extra trusted CA certificates (PEM), one per entry */
  ca?: string[];
}

export function toImapHostConfig(env: {
  IMAP_ALLOW_PRIVATE_HOSTS: boolean;
  IMAP_CA_FILE?: { file: string; pem: string };
}): ImapHostConfig {
  return {
    allowPrivateHosts: env.IMAP_ALLOW_PRIVATE_HOSTS,
    ...(env.IMAP_CA_FILE ? { ca: [env.IMAP_CA_FILE.pem] } : {}),
  };
}
