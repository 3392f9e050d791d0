/**
 * The IMAP adapter's reader and sessions against the stack's real Dovecot (CONDSTORE, QRESYNC, UIDPLUS): a fresh
 * address per run, changed through a session of the test's own; what the reader answers (pages, live cursors,
 * removals, a lost UIDVALIDITY, where a message is) checked against what the test did. And how a session fails:
 * a wrong password, a host the policy refuses, TLS to a certificate nobody trusts.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import type { ImapFlow } from 'imapflow';
import { devMailServer, withDevImapSession, type DevMailServer } from '@email-core/testing';
import {
  CursorLostError,
  ProviderRefusedError,
  ProviderUnavailableError,
  ReauthRequiredError,
  type ChangesPage,
  type Mailbox,
  type MailboxActions,
  type MailboxAttachments,
} from '../port';
import { openImapSession, withImapSession } from './imap-connection';
import { encodeMessageId } from './imap-ids';
import { decodeImapCursor, formatUidSet } from './imap-cursor';
import { ImapMailbox } from './imap-mailbox';
import type { HostPolicy, ImapAccountSettings, MailServerSettings } from './imap-settings';

const server = devMailServer() as DevMailServer;
if (!server) throw new Error('the dev mail server is not running (libs/testing global setup sets MAIL_*)');
const ca = readFileSync(server.caFile, 'utf8');
const policy: HostPolicy = { allowPrivateHosts: true, ca: [ca] };
const address = `reader-${randomBytes(4).toString('hex')}@imap-reader.test`;

const imap: MailServerSettings = {
  host: server.imap.host,
  port: server.imap.port,
  security: 'starttls',
  username: address,
  password: server.password,
};
const settings: ImapAccountSettings = {
  email: address,
  imap,
  smtp: { ...imap, port: server.submission.port },
};

const unused = new Proxy({}, { get: () => () => Promise.reject(new Error('not used here')) });
const reader = (pageBytes?: number, qresync?: boolean): Mailbox =>
  new ImapMailbox({
    accountId: randomUUID(),
    settings: () => Promise.resolve(settings),
    policy,
    actions: unused as MailboxActions,
    attachments: unused as MailboxAttachments,
    ...(pageBytes ? { pageBytes } : {}),
    ...(qresync === undefined ? {} : { qresync }),
  });
const mailbox = reader();

/** a session of the test's own, as another mail client */
const elsewhere = <T>(work: (client: ImapFlow) => Promise<T>): Promise<T> =>
  withDevImapSession(server, address, work);

async function append(path: string, subject: string, flags: string[] = []): Promise<string> {
  const raw = [
    'From: Sender <sender@imap-reader.test>',
    `To: <${address}>`,
    `Subject: ${subject}`,
    `Message-ID: <${randomUUID()}@imap-reader.test>`,
    'Content-Type: text/html; charset=utf-8',
    '',
    `<p>Body of <b>${subject}</b></p>`,
    '',
  ].join('\r\n');
  const done = await elsewhere((c) => c.append(path, raw, flags));
  if (!done || !done.uid || done.uidValidity === undefined) throw new Error('no APPENDUID');
  return encodeMessageId({ path, uidValidity: done.uidValidity, uid: done.uid });
}

const uidOf = (id: string) => Number(id.split('.')[1]);

/** every page from `first` until caught up */
async function readAll(first: Parameters<Mailbox['changes']>[0], pageSize: number, from = mailbox) {
  const pages: ChangesPage[] = [];
  let page = await from.changes(first, pageSize);
  pages.push(page);
  while (page.nextCursor) {
    page = await from.changes({ cursor: page.nextCursor }, pageSize);
    pages.push(page);
  }
  return {
    pages,
    messages: pages.flatMap((p) => p.messages),
    removedIds: pages.flatMap((p) => p.removedIds),
    cursor: page.cursor as string,
  };
}

const FOLDER = 'Reader';

describe('the IMAP reader on the stack mail server', () => {
  const ids: string[] = [];

  beforeAll(async () => {
    await elsewhere((c) => c.mailboxCreate(FOLDER));
    for (let i = 0; i < 5; i++) ids.push(await append(FOLDER, `page ${i}`, i % 2 ? ['\\Seen'] : []));
  });

  it('lists the folder tree with the well-known folders and counts', async () => {
    const tree = await mailbox.listFolderTree();
    const byId = new Map(tree.map((f) => [f.id, f]));
    expect(byId.get('INBOX')?.wellKnownName).toBe('inbox');
    expect(byId.get('Sent')?.wellKnownName).toBe('sentitems');
    expect(byId.get('Trash')?.wellKnownName).toBe('deleteditems');
    expect(byId.get(FOLDER)).toMatchObject({
      parentFolderId: null,
      displayName: FOLDER,
      wellKnownName: null,
      totalItemCount: 5,
      unreadItemCount: 3,
    });
  });

  let live: string;

  it('pages a folder from scratch in UID order, one FETCH per page, then answers a cursor', async () => {
    const read = await readAll({ folderId: FOLDER }, 2);
    expect(read.pages.map((p) => p.messages.length)).toEqual([2, 2, 1]);
    expect(read.pages.slice(0, 2).every((p) => p.nextCursor && !p.cursor)).toBe(true);
    expect(read.messages.map((m) => m.id)).toEqual(ids);
    const first = read.messages[0];
    expect(first).toMatchObject({
      folderId: FOLDER,
      subject: 'page 0',
      isRead: false,
      flagStatus: 'notFlagged',
      body: { contentType: 'html' },
      bodyPreview: 'Body of page 0',
      from: { name: 'Sender', address: 'sender@imap-reader.test' },
    });
    expect(first.changeKey).toMatch(/^\d+$/);
    expect(read.messages[1].isRead).toBe(true);
    live = read.cursor;
  });

  it('cuts a page at its byte budget, one message a page at least', async () => {
    const read = await readAll({ folderId: FOLDER }, 3, reader(1));
    expect(read.pages.map((p) => p.messages.length)).toEqual([1, 1, 1, 1, 1]);
    expect(read.messages.map((m) => m.id)).toEqual(ids);
  });

  it('answers nothing from a cursor when nothing changed', async () => {
    const read = await readAll({ cursor: live }, 2);
    expect([read.messages, read.removedIds]).toEqual([[], []]);
    live = read.cursor;
  });

  it('from a live cursor: new messages, changed flags and removals (the highest UID included)', async () => {
    const added = await append(FOLDER, 'new one');
    await elsewhere(async (c) => {
      const lock = await c.getMailboxLock(FOLDER);
      try {
        await c.messageFlagsAdd(String(uidOf(ids[0])), ['\\Flagged', '\\Seen'], { uid: true });
        // the middle one and the newest: a removed highest UID must be reported too
        await c.messageDelete(`${uidOf(ids[2])},${uidOf(added)}`, { uid: true });
      } finally {
        lock.release();
      }
    });
    const read = await readAll({ cursor: live }, 200);
    expect(read.messages.map((m) => [m.id, m.isRead, m.flagStatus])).toEqual([[ids[0], true, 'flagged']]);
    expect(read.removedIds.sort()).toEqual([ids[2], added].sort());
    // and the round after that has nothing new
    const again = await readAll({ cursor: read.cursor }, 200);
    expect([again.messages, again.removedIds]).toEqual([[], []]);
    live = again.cursor;
  });

  it('pages a live round by UID and ends caught up', async () => {
    const added = [
      await append(FOLDER, 'live a'),
      await append(FOLDER, 'live b'),
      await append(FOLDER, 'live c'),
    ];
    const read = await readAll({ cursor: live }, 2);
    expect(read.pages.length).toBe(2);
    expect(read.messages.map((m) => m.id)).toEqual(added);
    live = read.cursor;
  });

  it('tells where a message is, and null for one that is gone or not an id of this mailbox', async () => {
    expect(await mailbox.folderOf(ids[1])).toBe(FOLDER);
    expect(await mailbox.folderOf(ids[2])).toBeNull(); // expunged above
    expect(await mailbox.folderOf('not-an-imap-id')).toBeNull();
    expect(await mailbox.folderOf(encodeMessageId({ path: 'No/Such', uidValidity: 1, uid: 1 }))).toBeNull();
    const [, uid, path] = ids[1].split('.');
    expect(await mailbox.folderOf(`1.${uid}.${path}`)).toBeNull(); // another UIDVALIDITY
  });

  it('loses the cursor when the folder is recreated (a new UIDVALIDITY)', async () => {
    await elsewhere(async (c) => {
      await c.mailboxDelete(FOLDER);
      await c.mailboxCreate(FOLDER);
    });
    await append(FOLDER, 'after the recreation');
    await expect(mailbox.changes({ cursor: live })).rejects.toBeInstanceOf(CursorLostError);
    const fresh = await readAll({ folderId: FOLDER }, 10);
    expect(fresh.messages.map((m) => m.subject)).toEqual(['after the recreation']);
  });

  it('refuses a cursor it did not write and a folder that does not exist', async () => {
    await expect(mailbox.changes({ cursor: 'mem1.e30' })).rejects.toBeInstanceOf(ProviderRefusedError);
    await expect(mailbox.changes({ folderId: 'No/Such/Folder' })).rejects.toMatchObject({
      name: 'ProviderRefusedError',
      status: 404,
    });
  });
});

describe('IMAP sessions', () => {
  it('logs in over STARTTLS and over implicit TLS, trusting the policy CA', async () => {
    await expect(withImapSession(imap, policy, () => Promise.resolve('ok'))).resolves.toBe('ok');
    const imaps = process.env.MAIL_IMAPS?.split(':');
    if (!imaps) throw new Error('MAIL_IMAPS is not set');
    const tls = { ...imap, port: Number(imaps[imaps.length - 1]), security: 'tls' as const };
    await expect(withImapSession(tls, policy, () => Promise.resolve('ok'))).resolves.toBe('ok');
  });

  it('a refused login is ReauthRequiredError; no password in the error', async () => {
    const wrong = { ...imap, password: `wrong-${randomUUID()}` };
    const err = await openImapSession(wrong, policy).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ReauthRequiredError);
    expect((err as ReauthRequiredError).providerCode).toBe('AUTHENTICATIONFAILED');
    expect(JSON.stringify(err) + String(err)).not.toContain(wrong.password);
  });

  it('refuses the loopback server unless the policy allows private hosts, and cleartext likewise', async () => {
    await expect(openImapSession(imap, { ...policy, allowPrivateHosts: false })).rejects.toMatchObject({
      name: 'ReauthRequiredError',
      providerCode: 'HOST_NOT_ALLOWED',
    });
    await expect(
      openImapSession({ ...imap, security: 'none' }, { ...policy, allowPrivateHosts: false }),
    ).rejects.toMatchObject({ name: 'ReauthRequiredError', providerCode: 'INSECURE_CONNECTION' });
  });

  it('a server certificate from a CA outside the trusted ones is ProviderUnavailableError', async () => {
    // the policy's CAs beside the public roots, not the stack CA (the test process itself trusts that one
    // through NODE_EXTRA_CA_CERTS, which a custom CA list leaves out)
    const session = openImapSession(imap, { allowPrivateHosts: true, ca: [rootCertificates[0]] });
    const err = await session.then(
      async (client) => {
        await client.logout();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ProviderUnavailableError);
  });
});

describe('a server with CONDSTORE but without QRESYNC (as Gmail): removals by comparing UID sets', () => {
  // Dovecot has QRESYNC; a session that does not ENABLE it reads the folder as from a server without it
  const noQresync = reader(undefined, false);
  const folder = 'NoQresync';
  const ids: string[] = [];
  let live = '';

  beforeAll(async () => {
    await elsewhere((c) => c.mailboxCreate(folder));
    for (let i = 0; i < 5; i++) ids.push(await append(folder, `nq ${i}`));
  });

  it('keeps the UIDs it served in the cursor while it reads the folder from scratch', async () => {
    const read = await readAll({ folderId: folder }, 2, noQresync);
    expect(read.messages.map((m) => m.id)).toEqual(ids);
    expect(decodeImapCursor(read.cursor)?.u).toBe(`${uidOf(ids[0])}:${uidOf(ids[4])}`);
    live = read.cursor;
  });

  it('from a live cursor: new messages, changed flags, and the expunged ones found missing from UID SEARCH ALL', async () => {
    const added = await append(folder, 'nq new');
    const kept = await append(folder, 'nq kept');
    await elsewhere(async (c) => {
      const lock = await c.getMailboxLock(folder);
      try {
        await c.messageFlagsAdd(String(uidOf(ids[0])), ['\\Flagged'], { uid: true });
        // one served before, and one new since the cursor (never served: nothing to report for it)
        await c.messageDelete(`${uidOf(ids[2])},${uidOf(added)}`, { uid: true });
      } finally {
        lock.release();
      }
    });
    const read = await readAll({ cursor: live }, 200, noQresync);
    expect(read.messages.map((m) => [m.id, m.flagStatus])).toEqual([
      [ids[0], 'flagged'],
      [kept, 'notFlagged'],
    ]);
    expect(read.removedIds).toEqual([ids[2]]);
    // the set: served before and still there, plus what this round served
    expect(decodeImapCursor(read.cursor)?.u).toBe(
      formatUidSet([ids[0], ids[1], ids[3], ids[4], kept].map(uidOf)),
    );
    // the round after that has nothing new
    const again = await readAll({ cursor: read.cursor }, 200, noQresync);
    expect([again.messages, again.removedIds]).toEqual([[], []]);
    live = again.cursor;
  });

  it('an expunge alone (no flag change, no new mail) is still found', async () => {
    await elsewhere(async (c) => {
      const lock = await c.getMailboxLock(folder);
      try {
        await c.messageDelete(String(uidOf(ids[4])), { uid: true });
      } finally {
        lock.release();
      }
    });
    const read = await readAll({ cursor: live }, 200, noQresync);
    expect([read.messages, read.removedIds]).toEqual([[], [ids[4]]]);
  });

  it('a cursor without a UID set (written while the server had QRESYNC) is lost once, then read again', async () => {
    const withQresync = await readAll({ folderId: folder }, 200);
    expect(decodeImapCursor(withQresync.cursor)?.u).toBeUndefined();
    await expect(noQresync.changes({ cursor: withQresync.cursor })).rejects.toBeInstanceOf(CursorLostError);
  });
});
