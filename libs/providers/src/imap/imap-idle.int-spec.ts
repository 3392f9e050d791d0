/**
 * The IDLE connection against the stack's real Dovecot (2.3, with NOTIFY): with NOTIFY, changes made by another
 * client in folders other than INBOX (a message added, flagged, expunged; a folder created) are reported as they
 * happen while the connection idles on INBOX, and INBOX's own changes still come through IDLE; without it (the
 * option off, as on a server that lacks NOTIFY) the other folders are found by the STATUS poll.
 *
 * This is also the guard of `enableNotify`, which reaches into imapflow's internals (`exec`, `untaggedHandlers`):
 * if an imapflow upgrade moves them, `notifying` is false here and the first test fails.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ImapFlow } from 'imapflow';
import { devMailServer, withDevImapSession, type DevMailServer } from '@email-core/testing';
import { ImapIdleConnection, type ImapWatchChange } from './imap-idle';
import type { HostPolicy, MailServerSettings } from './imap-settings';

const server = devMailServer() as DevMailServer;
if (!server) throw new Error('the dev mail server is not running (libs/testing global setup sets MAIL_*)');
const ca = readFileSync(server.caFile, 'utf8');
const policy: HostPolicy = { allowPrivateHosts: true, ca: [ca] };
const address = `notify-${randomBytes(4).toString('hex')}@imap-idle.test`;
const imap: MailServerSettings = {
  host: server.imap.host,
  port: server.imap.port,
  security: 'starttls',
  username: address,
  password: server.password,
};
/** a folder name that is not ASCII (modified UTF-7 on the wire) */
const DRAFTS_DE = 'Entwürfe';

/** another mail client of the same address */
const elsewhere = <T>(work: (client: ImapFlow) => Promise<T>): Promise<T> =>
  withDevImapSession(server, address, work);

const raw = (subject: string) =>
  `From: a@imap-idle.test\r\nTo: ${address}\r\nSubject: ${subject}\r\n\r\n${subject}\r\n`;

/** a connection whose reports are collected, and a wait for the next one that matches */
async function watch(options: { notify: boolean; statusPollMs: number }) {
  const seen: Array<{ change: ImapWatchChange; at: number }> = [];
  const connection = await ImapIdleConnection.start({
    server: imap,
    policy,
    ...options,
    onChange: (change) => seen.push({ change, at: Date.now() }),
  });
  const next = async (
    what: string,
    test: (c: ImapWatchChange) => boolean,
    act: () => Promise<unknown>,
    timeoutMs: number,
  ): Promise<number> => {
    const from = seen.length;
    const since = Date.now();
    await act();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = seen.slice(from).find((s) => test(s.change));
      if (hit) return hit.at - since;
      if (Date.now() > deadline) {
        throw new Error(
          `${what}: not reported within ${timeoutMs} ms (saw ${JSON.stringify(seen.slice(from))})`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  return { connection, seen, next };
}

const folderChange = (folder: string) => (c: ImapWatchChange) =>
  c.kind !== 'everyFolder' && c.folder === folder;

beforeAll(async () => {
  await elsewhere(async (client) => {
    for (const folder of ['Archive', DRAFTS_DE]) {
      const exists = await client.status(folder, { messages: true }).catch(() => false);
      if (!exists) await client.mailboxCreate(folder);
    }
    await client.append('Archive', raw('already there'));
  });
});

describe('the IMAP IDLE connection against Dovecot', () => {
  it('with NOTIFY: other folders are reported as they change, while INBOX idles', async () => {
    // a poll interval far beyond the test: anything reported came through NOTIFY or IDLE
    const { connection, seen, next } = await watch({ notify: true, statusPollMs: 600_000 });
    const times: Record<string, number> = {};
    try {
      expect(connection.notifying).toBe(true);

      times.append = await next(
        'APPEND to Archive',
        folderChange('Archive'),
        () => elsewhere((c) => c.append('Archive', raw('new in Archive'))),
        2000,
      );
      const inArchive = (work: (c: ImapFlow) => Promise<unknown>) =>
        elsewhere(async (c) => {
          const lock = await c.getMailboxLock('Archive');
          try {
            await work(c);
          } finally {
            lock.release();
          }
        });
      times.flag = await next(
        'STORE \\Flagged in Archive',
        folderChange('Archive'),
        () => inArchive((c) => c.messageFlagsAdd('1', ['\\Flagged'])),
        2000,
      );
      times.unflag = await next(
        'STORE -\\Flagged in Archive',
        folderChange('Archive'),
        () => inArchive((c) => c.messageFlagsRemove('1', ['\\Flagged'])),
        2000,
      );
      times.expunge = await next(
        'EXPUNGE in Archive',
        folderChange('Archive'),
        () => inArchive((c) => c.messageDelete('1')),
        2000,
      );
      times.nonAscii = await next(
        `APPEND to ${DRAFTS_DE}`,
        folderChange(DRAFTS_DE),
        () => elsewhere((c) => c.append(DRAFTS_DE, raw('Entwurf'))),
        2000,
      );
      times.inbox = await next(
        'APPEND to INBOX (IDLE)',
        (c) => c.kind === 'created' && c.folder === 'INBOX',
        () => elsewhere((c) => c.append('INBOX', raw('new in INBOX'))),
        2000,
      );
      times.folderCreated = await next(
        'CREATE a folder',
        (c) => c.kind === 'everyFolder',
        () => elsewhere((c) => c.mailboxCreate(`Projects-${randomBytes(2).toString('hex')}`)),
        2000,
      );

      // what a mirror round does (EXAMINE, FETCH with the bodies) changes nothing: no report, so no poke loop
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const before = seen.length;
      await elsewhere(async (c) => {
        for (const folder of ['INBOX', 'Archive', DRAFTS_DE]) {
          await c.mailboxOpen(folder, { readOnly: true });
          for await (const m of c.fetch('1:*', { uid: true, flags: true, envelope: true, source: true })) {
            expect(m.uid).toBeGreaterThan(0);
          }
        }
      });
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(seen.slice(before)).toEqual([]);
    } finally {
      await connection.close();
      process.stdout.write(`NOTIFY / IDLE report latencies (ms): ${JSON.stringify(times)}\n`);
    }
    expect(await connection.ended).toBeUndefined();
  }, 60_000);

  it('without NOTIFY (a server that lacks it): the other folders are found by the STATUS poll', async () => {
    const { connection, next } = await watch({ notify: false, statusPollMs: 1000 });
    try {
      expect(connection.notifying).toBe(false);
      const ms = await next(
        'APPEND to Archive',
        folderChange('Archive'),
        () => elsewhere((c) => c.append('Archive', raw('polled in Archive'))),
        4000,
      );
      // found by a poll: within one interval (and the poll's own round trip)
      expect(ms).toBeLessThanOrEqual(3000);
    } finally {
      await connection.close();
    }
  }, 30_000);
});
