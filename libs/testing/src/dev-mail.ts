import { existsSync } from 'node:fs';
import { parseHostPort, type HostPort } from '@email-core/config';
import { devMailPassword, imapAdapterEnv, mailCaFile, systemMailSmtpEnv } from '@email-core/stack';
import { withDevImapSession } from './imap-mailbox-state';
import { waitFor } from './wait-for';

/** The stack's dev mail server, as `stack:up` (or the test setup) describes it; null when it is not running. */
export interface DevMailServer {
  submission: HostPort;
  imap: HostPort;
  /** every mailbox logs in with its full address and this password */
  password: string;
  /** the local CA the server's certificate is signed by */
  caFile: string;
}

export function devMailServer(env: NodeJS.ProcessEnv = process.env): DevMailServer | null {
  const password = devMailPassword(env);
  const caFile = mailCaFile(env);
  if (!env.MAIL_SUBMISSION || !env.MAIL_IMAP || !password || !existsSync(caFile)) return null;
  return {
    submission: parseHostPort(env.MAIL_SUBMISSION),
    imap: parseHostPort(env.MAIL_IMAP),
    password,
    caFile,
  };
}

/** The consumer's SMTP settings for the dev mail server (submission with STARTTLS and AUTH), or none. */
export function systemMailEnv(server = devMailServer()): Record<string, string> {
  if (!server) return {};
  const submission = `${server.submission.host}:${server.submission.port}`;
  // the same settings `npm start` gives the consumer (an empty environment: nothing of the test's own wins)
  return systemMailSmtpEnv({ submission }, server.password, server.caFile, {});
}

/** The IMAP adapter's settings for the dev mail server (private hosts allowed, its CA trusted), or none. */
export function imapAdapterTestEnv(server = devMailServer()): Record<string, string> {
  if (!server) return {};
  return imapAdapterEnv(server.caFile, {});
}

export interface ReceivedMail {
  uid: number;
  messageId: string;
  subject: string;
  /** the raw RFC 822 source */
  source: string;
}

/** Every mail in `address`'s INBOX, over a real IMAP session (the dev password). */
export function readMailbox(server: DevMailServer, address: string): Promise<ReceivedMail[]> {
  return withDevImapSession(server, address, async (client) => {
    const mails: ReceivedMail[] = [];
    const lock = await client.getMailboxLock('INBOX');
    try {
      const box = client.mailbox;
      if (box && box.exists > 0) {
        for await (const m of client.fetch('1:*', { uid: true, envelope: true, source: true })) {
          mails.push({
            uid: m.uid,
            messageId: m.envelope?.messageId ?? '',
            subject: m.envelope?.subject ?? '',
            source: m.source?.toString('utf8') ?? '',
          });
        }
      }
    } finally {
      lock.release();
    }
    return mails;
  });
}

/** Waits until `address` holds at least `count` mails, and returns them all. */
export async function waitForMail(
  server: DevMailServer,
  address: string,
  count = 1,
  timeoutMs = 30_000,
): Promise<ReceivedMail[]> {
  return waitFor(
    async () => {
      const mails = await readMailbox(server, address);
      return mails.length >= count ? mails : undefined;
    },
    { timeoutMs, intervalMs: 300, what: `${count} mail(s) for ${address}` },
  );
}

/** The 6-digit code a system mail carries (the indented line of its text part). */
export function codeInMail(mail: ReceivedMail): string {
  const code = /^ {4}(\d{6})\r?$/m.exec(mail.source)?.[1];
  if (!code) throw new Error(`no code in mail ${mail.messageId}`);
  return code;
}
