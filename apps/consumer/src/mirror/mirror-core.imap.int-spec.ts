import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ImapFlow } from 'imapflow';
import { DataSource } from 'typeorm';
import { TokenCipher } from '@email-core/crypto';
import { MailAccountTokensRepository } from '@email-core/database';
import {
  decodeMessageId,
  encodeMessageId,
  ImapCredentialVault,
  ImapProvider,
  type HostPolicy,
  type ImapAccountSettings,
} from '@email-core/providers';
import { currentTestRun, devMailServer, withDevImapSession, type DevMailServer } from '@email-core/testing';
import { describeMirrorCore, mailboxState, type RemoteMailbox } from './testing/mirror-core.contract';
import { withoutWatch } from './testing/test-providers';

/**
 * The mirror core's scenarios on the IMAP adapter, against the stack's real mail server (Dovecot: CONDSTORE,
 * QRESYNC, MOVE, UIDPLUS, SPECIAL-USE): the same scenarios as the in-memory and Outlook runners. Each account is a
 * fresh address on the dev server, its settings sealed by the adapter's own vault into the account row (the
 * adapter opens them from there, as in production). The test changes the mailbox "elsewhere" through an IMAP
 * session of its own (APPEND, STORE, MOVE, EXPUNGE, CREATE) and reads the truth from the server.
 *
 * Limits (see `ProviderLimits`), by design of IMAP with UID-based ids: a message's content cannot be edited (only
 * its flags), a move gives the message a new id, and the only way a cursor is lost (UIDVALIDITY changing) changes
 * every id of the folder, so the lost-cursor scenario is skipped and the moves scenario checks the IMAP way.
 */

let server: DevMailServer;
let policy: HostPolicy;
let dataSource: DataSource;

const FOLDERS = {
  inbox: 'INBOX',
  archive: 'Archive',
  projects: 'INBOX/Projects',
  nested: 'INBOX/Projects/2026',
};

/** a session of the test's own, as another mail client of the address */
const session = <T>(address: string, work: (client: ImapFlow) => Promise<T>): Promise<T> =>
  withDevImapSession(server, address, work);

const located = (id: string) => {
  const loc = decodeMessageId(id);
  if (!loc) throw new Error(`not an IMAP message id: ${id}`);
  return loc;
};

function rawMessage(address: string, subject: string): string {
  const id = randomUUID();
  return [
    `From: Sender <sender@imap.example>`,
    `To: <${address}>`,
    `Subject: ${subject}`,
    `Date: ${new Date().toUTCString()}`,
    `Message-ID: <${id}@imap.example>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    `Body of "${subject}" (${id})`,
    '',
  ].join('\r\n');
}

function remote(address: string): RemoteMailbox {
  const inFolder = <T>(path: string, work: (client: ImapFlow) => Promise<T>) =>
    session(address, async (client) => {
      const lock = await client.getMailboxLock(path);
      try {
        return await work(client);
      } finally {
        lock.release();
      }
    });
  return {
    folders: FOLDERS,
    addMessage: (folderId, input = {}) =>
      session(address, async (client) => {
        const appended = await client.append(
          folderId,
          rawMessage(address, input.subject ?? `message ${randomUUID().slice(0, 8)}`),
          input.isRead ? ['\\Seen'] : [],
        );
        if (!appended || !appended.uid || appended.uidValidity === undefined) {
          throw new Error(`APPEND to ${folderId} answered no APPENDUID`);
        }
        return encodeMessageId({ path: folderId, uidValidity: appended.uidValidity, uid: appended.uid });
      }),
    update: (id, patch) => {
      if (patch.subject !== undefined) throw new Error('an IMAP message cannot be edited (ProviderLimits)');
      const loc = located(id);
      return inFolder(loc.path, async (client) => {
        const uid = String(loc.uid);
        if (patch.isRead === true) await client.messageFlagsAdd(uid, ['\\Seen'], { uid: true });
        if (patch.isRead === false) await client.messageFlagsRemove(uid, ['\\Seen'], { uid: true });
        if (patch.flagStatus === 'flagged') await client.messageFlagsAdd(uid, ['\\Flagged'], { uid: true });
        if (patch.flagStatus === 'notFlagged') {
          await client.messageFlagsRemove(uid, ['\\Flagged'], { uid: true });
        }
      });
    },
    move: async (id, folderId) => {
      const loc = located(id);
      await inFolder(loc.path, (client) => client.messageMove(String(loc.uid), folderId, { uid: true }));
    },
    remove: async (id) => {
      const loc = located(id);
      await inFolder(loc.path, (client) => client.messageDelete(String(loc.uid), { uid: true }));
    },
    addFolder: (displayName, parentId) =>
      session(address, async (client) => (await client.mailboxCreate(`${parentId}/${displayName}`)).path),
    expireCursors: () =>
      Promise.reject(new Error('IMAP cursors are not expired in this suite (ProviderLimits.noCursorExpiry)')),
    truth: () =>
      session(address, async (client) => {
        const listed = await client.list({ statusQuery: { messages: true, unseen: true } });
        const visible = listed.filter((f) => !f.flags.has('\\Noselect') && !f.flags.has('\\NonExistent'));
        const messages: Parameters<typeof mailboxState>[0] = [];
        for (const f of visible) {
          const box = await client.mailboxOpen(f.path, { readOnly: true });
          if (box.exists === 0) continue;
          for await (const m of client.fetch('1:*', { uid: true, flags: true, envelope: true })) {
            const flags = m.flags ?? new Set<string>();
            messages.push({
              id: encodeMessageId({ path: f.path, uidValidity: box.uidValidity, uid: m.uid }),
              folderId: f.path,
              changeKey: String(m.modseq),
              subject: m.envelope?.subject ?? '',
              isRead: flags.has('\\Seen'),
              flagStatus: flags.has('\\Flagged') ? 'flagged' : 'notFlagged',
            });
          }
        }
        return mailboxState(
          messages,
          visible.map((f) => ({ id: f.path, total: f.status?.messages ?? 0, unread: f.status?.unseen ?? 0 })),
        );
      }),
  };
}

let vault: ImapCredentialVault;

/** the runner's fixture; `qresync: false` reads the stack's Dovecot as a server without QRESYNC (as Gmail) */
function imapFixture(qresync: boolean): Parameters<typeof describeMirrorCore>[1] {
  return {
    provider: 'imap',
    // the scenarios poke the rounds themselves, as the Outlook runner keeps its webhook out: no IDLE watcher
    // (apps/consumer/src/imap-idle has its own int-spec)
    env: { IMAP_IDLE_ENABLED: 'false' },
    limits: {
      immutableMessages: 'an IMAP message is immutable: only its flags change',
      movesChangeIds: "a message id is its folder's UIDVALIDITY and its UID there: a move gives it a new one",
      noCursorExpiry:
        'an IMAP cursor is lost only when UIDVALIDITY changes, which changes every id of the folder: the ' +
        'scenario\'s "the other messages kept" cannot hold',
    },
    start: async () => {
      const found = devMailServer();
      if (!found)
        throw new Error('the stack mail server is not running (MAIL_IMAP, DEV_MAIL_PASSWORD, its CA)');
      server = found;
      policy = { allowPrivateHosts: true, ca: [readFileSync(server.caFile, 'utf8')] };
      dataSource = new DataSource({ type: 'postgres', url: currentTestRun().databaseUrl });
      await dataSource.initialize();
      vault = new ImapCredentialVault(
        new TokenCipher([{ id: 'imap-it', key: randomBytes(32) }]),
        new MailAccountTokensRepository(dataSource),
      );
      // no watch: IDLE is not built yet, and the scenarios poke the rounds themselves
      return withoutWatch(new ImapProvider({ vault, policy, qresync }));
    },
    stop: async () => {
      await dataSource?.destroy();
    },
    createMailbox: async (accountId, address) => {
      const login = { host: server.imap.host, username: address, password: server.password };
      const settings: ImapAccountSettings = {
        email: address,
        imap: { ...login, port: server.imap.port, security: 'starttls' },
        smtp: { ...login, host: server.submission.host, port: server.submission.port, security: 'starttls' },
      };
      await session(address, async (client) => {
        for (const path of [FOLDERS.archive, FOLDERS.projects, FOLDERS.nested]) {
          const exists = await client.status(path, { messages: true }).catch(() => false);
          if (!exists) await client.mailboxCreate(path);
        }
      });
      return { externalUserId: address, mailbox: remote(address), sealed: vault.seal(accountId, settings) };
    },
  };
}

describeMirrorCore('IMAP (the stack mail server)', imapFixture(true));
describeMirrorCore(
  'IMAP without QRESYNC (the stack mail server read as Gmail: UID-set comparison)',
  imapFixture(false),
);
