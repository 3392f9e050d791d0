/**
 * What an IMAP/SMTP account is linked with: the two servers and their logins, as the user typed them. Sealed in
 * the account row by the IMAP adapter's vault (never logged, never in Kafka, never answered by the API).
 */
export type ServerSecurity = 'tls' | 'starttls' | 'none';

export interface MailServerSettings {
  host: string;
  port: number;
  security: ServerSecurity;
  username: string;
  password: string;
}

export interface ImapAccountSettings {
  /** the mailbox's address (the account's external user id) */
  email: string;
  imap: MailServerSettings;
  smtp: MailServerSettings;
}

/** How the adapter may reach the hosts users typed (see host-guard.ts). */
export interface HostPolicy {
  /** `IMAP_ALLOW_PRIVATE_HOSTS=true`: loopback and private addresses allowed (the stack's own mail server) */
  allowPrivateHosts: boolean;
  /** extra CA certificates (PEM) trusted for TLS, beside the system's (the stack's local CA in development) */
  ca?: string[];
}
