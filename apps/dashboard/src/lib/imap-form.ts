import type { ImapField } from './imap-link-errors';

export type Security = 'tls' | 'starttls';
export type ServerKind = 'imap' | 'smtp';

/** The usual port of each server and security mode: IMAPS 993, IMAP + STARTTLS 143, SMTPS 465, submission 587. */
export const DEFAULT_PORTS: Record<ServerKind, Record<Security, number>> = {
  imap: { tls: 993, starttls: 143 },
  smtp: { tls: 465, starttls: 587 },
};

/** One server as the form holds it; `username` null means "the email address" (until the user types one). */
export interface ServerForm {
  host: string;
  port: string;
  security: Security;
  username: string | null;
  password: string;
}

export interface ImapForm {
  email: string;
  imap: ServerForm;
  smtp: ServerForm;
  /** the SMTP server takes the IMAP password (most providers): no second password field */
  smtpSamePassword: boolean;
}

export const emptyImapForm = (email = ''): ImapForm => ({
  email,
  imap: { host: '', port: String(DEFAULT_PORTS.imap.tls), security: 'tls', username: null, password: '' },
  smtp: { host: '', port: String(DEFAULT_PORTS.smtp.tls), security: 'tls', username: null, password: '' },
  smtpSamePassword: true,
});

/**
 * A new security mode: the port follows it when it was the old mode's default (or empty); a port the user typed
 * for this server stays.
 */
export function withSecurity(kind: ServerKind, server: ServerForm, security: Security): ServerForm {
  const wasDefault =
    server.port.trim() === '' || server.port.trim() === String(DEFAULT_PORTS[kind][server.security]);
  return { ...server, security, port: wasDefault ? String(DEFAULT_PORTS[kind][security]) : server.port };
}

/** The user name shown and sent: what was typed, else the email address. */
export const usernameOf = (form: ImapForm, kind: ServerKind): string =>
  form[kind].username ?? form.email.trim();

/** The password sent to the SMTP server. */
export const smtpPasswordOf = (form: ImapForm): string =>
  form.smtpSamePassword ? form.imap.password : form.smtp.password;

/** `POST /accounts/imap`'s body. */
export function linkBody(form: ImapForm) {
  const server = (kind: ServerKind) => ({
    host: form[kind].host.trim(),
    port: Number(form[kind].port.trim()),
    security: form[kind].security,
    username: usernameOf(form, kind),
    password: kind === 'smtp' ? smtpPasswordOf(form) : form.imap.password,
  });
  return { email: form.email.trim(), imap: server('imap'), smtp: server('smtp') };
}

const HOST =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const IPV6 = /^[0-9a-f:.]+$/i;

/**
 * What can be told before asking the server: missing fields, a malformed address, a host with a scheme, port or
 * path, a port out of range. The server checks everything again (and answers the same way).
 */
export function checkImapForm(form: ImapForm): Partial<Record<ImapField, string>> {
  const problems: Partial<Record<ImapField, string>> = {};
  const email = form.email.trim();
  if (!email) problems.email = 'Enter the email address.';
  else if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) problems.email = 'Enter a valid email address.';
  for (const kind of ['imap', 'smtp'] as const) {
    const name = kind.toUpperCase();
    const host = form[kind].host.trim();
    if (!host) problems[`${kind}.host`] = `Enter the ${name} server.`;
    else if (!HOST.test(host) && !(host.includes(':') && IPV6.test(host))) {
      problems[`${kind}.host`] =
        `${name} server: enter a host name or IP address only, like mail.example.com (no https://, port or path).`;
    }
    const port = form[kind].port.trim();
    if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65535) {
      problems[`${kind}.port`] = `${name} port: enter a port number from 1 to 65535.`;
    }
    if (!usernameOf(form, kind)) problems[`${kind}.username`] = `Enter the ${name} user name.`;
  }
  if (!form.imap.password) problems['imap.password'] = 'Enter the IMAP password.';
  if (!form.smtpSamePassword && !form.smtp.password) problems['smtp.password'] = 'Enter the SMTP password.';
  return problems;
}
