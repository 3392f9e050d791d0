import { randomUUID } from 'node:crypto';
import type { ImapFlow } from 'imapflow';
import { createTransport } from 'nodemailer';
import { parseHostPort } from '@email-core/config';
import { Topics, type MailboxPoke, type SyncRequested } from '@email-core/contracts';
import { partitionOfKey, subscribeWhenReady } from '@email-core/kafka';
import { ProviderRegistry, type ImapAccountSettings } from '@email-core/providers';
import {
  devMailServer,
  imapAdapterTestEnv,
  waitFor,
  withDevImapSession,
  type DevMailServer,
} from '@email-core/testing';
import { startConsumerHarness, type ConsumerHarness } from '../mirror/testing/consumer-harness';
import { ImapIdleWatcher } from './imap-idle.watcher';

/**
 * The IMAP watcher in the consumer app as it boots (real Postgres, Kafka, Redis, and the stack's Dovecot +
 * Postfix): an IMAP account is inserted with its settings sealed by the app's own vault, the watcher opens IDLE
 * for it (the app's pokes consumer holds every partition, so the process owns every account), and changes made
 * "elsewhere" (a mail delivered through Postfix, a flag set in another IMAP session, a message added to another
 * folder, through NOTIFY) come out as `mailbox.poke`s of source 'idle' on the pokes topic, which the app's pokes consumer turns
 * into rounds of the mirror core. Latencies are printed.
 */

let server: DevMailServer;
const smtp = parseHostPort(process.env.MAIL_SMTP ?? '127.0.0.1:2525');

/** a session of the test's own, as another mail client of the address */
const session = <T>(address: string, work: (client: ImapFlow) => Promise<T>, password?: string): Promise<T> =>
  withDevImapSession(server, address, work, password);

/** a mail delivered to `address` through Postfix's SMTP (no auth), as any sender on the internet would */
async function deliver(address: string, subject: string): Promise<void> {
  const transport = createTransport({ host: smtp.host, port: smtp.port, secure: false, ignoreTLS: true });
  try {
    await transport.sendMail({
      from: 'sender@idle.example',
      to: address,
      subject,
      text: `delivered for the IDLE test (${subject})`,
    });
  } finally {
    transport.close();
  }
}

const latencies: Array<{ what: string; ms: number; publishedMs: number }> = [];

function describeStack(name: string, fn: () => void): void {
  (devMailServer() ? describe : describe.skip)(name, fn);
}

let harness: ConsumerHarness;
let watcher: ImapIdleWatcher;

/** the consumer app with the watcher, STATUS polls every 5 s, fast account refreshes and reconnects */
async function startWatching(name: string, env: Record<string, string>): Promise<void> {
  const found = devMailServer();
  if (!found) throw new Error('the stack mail server is not running');
  server = found;
  harness = await startConsumerHarness({
    name,
    env: { ...imapAdapterTestEnv(server), IMAP_STATUS_POLL_SECONDS: '5', ...env },
    app: {
      imapIdle: { settings: { accountsRefreshMs: 500, reconnectBaseMs: 200, reconnectMaxMs: 2000 } },
    },
    observe: [Topics.mailboxPokes],
  });
  watcher = harness.app.get(ImapIdleWatcher);
}

afterAll(() => {
  if (latencies.length > 0) {
    console.log(
      'IMAP IDLE latencies (change made → poke seen on the topic; → poke published):\n' +
        latencies.map((l) => `  ${l.what}: ${l.ms} ms (published after ${l.publishedMs} ms)`).join('\n'),
    );
  }
});

const pokesOf = (accountId: string) =>
  (harness.seen(Topics.mailboxPokes) as MailboxPoke[]).filter(
    (p) => p.accountId === accountId && p.source === 'idle',
  );

/** waits for the first idle poke of the account after `index` that `matches`; answers it and the latency */
const nextPoke = async (
  accountId: string,
  index: number,
  since: number,
  what: string,
  matches: (p: MailboxPoke) => boolean,
  timeoutMs = 2000,
) => {
  const poke = await waitFor(() => Promise.resolve(pokesOf(accountId).slice(index).find(matches)), {
    timeoutMs,
    intervalMs: 5,
    what,
  });
  const ms = Date.now() - since;
  const publishedMs = Date.parse(poke.receivedAt) - since;
  latencies.push({ what, ms, publishedMs });
  return { poke, ms };
};

const names = (p: MailboxPoke, kind: string, folderId: string) =>
  p.changes.some((c) => c.kind === kind && c.folderId === folderId);

/** an IMAP account of a fresh address on the dev server, inserted as linking does (settings sealed) */
const link = async (opts: { password?: string; synced?: boolean } = {}) => {
  const accountId = randomUUID();
  const address = `idle-${accountId.slice(0, 8)}@idle.example`;
  const login = { host: server.imap.host, username: address, password: opts.password ?? server.password };
  const settings: ImapAccountSettings = {
    email: address,
    imap: { ...login, port: server.imap.port, security: 'starttls' },
    smtp: { ...login, host: server.submission.host, port: server.submission.port, security: 'starttls' },
  };
  // the mailbox exists (Dovecot creates it at the first login) with a second folder for the STATUS polls
  await session(address, async (client) => {
    const exists = await client.status('Archive', { messages: true }).catch(() => false);
    if (!exists) await client.mailboxCreate('Archive');
  });
  const sealed = harness.app.get(ProviderRegistry).adapter('imap').vault.seal(accountId, settings);
  await harness.db.query(
    `INSERT INTO mail_accounts (id, user_id, provider, external_user_id, email, token_key_id, access_token_enc,
                              access_token_expires_at, refresh_token_enc, status, sync_completed_at)
   VALUES ($1, $2, 'imap', $3, $3, $4, $5, $6, $7, $8, $9)`,
    [
      accountId,
      harness.userId,
      address,
      sealed.keyId,
      sealed.accessTokenEnc,
      sealed.accessTokenExpiresAt,
      sealed.refreshTokenEnc,
      opts.synced ? 'synced' : 'syncing',
      opts.synced ? new Date() : null,
    ],
  );
  return { accountId, address };
};

const accountStatus = async (accountId: string) =>
  (await harness.db.query<{ status: string }>(`SELECT status FROM mail_accounts WHERE id = $1`, [accountId]))
    .rows[0]?.status;

describeStack(
  'the IMAP watcher against the stack mail server (real Kafka, Postgres, Dovecot, Postfix)',
  () => {
    beforeAll(async () => {
      await startWatching('imap-idle', {});
    }, 120_000);

    afterAll(async () => {
      await harness?.close();
    });

    it('opens IDLE for a linked account and pokes within 2 s for a delivered mail and a flag set elsewhere; the mirror follows', async () => {
      const { accountId, address } = await link();
      // the first sync, as linking asks for it: the pokes that follow then run rounds
      const sync: SyncRequested = {
        type: 'sync.requested',
        v: 1,
        accountId,
        reason: 'linked',
        requestedAt: new Date().toISOString(),
      };
      await harness.publisher.publish(harness.topic(Topics.syncRequests), accountId, sync);
      await waitFor(
        async () =>
          (
            await harness.db.query(
              `SELECT 1 FROM mail_accounts WHERE id = $1 AND sync_completed_at IS NOT NULL`,
              [accountId],
            )
          ).rowCount
            ? true
            : undefined,
        { timeoutMs: 30_000, what: 'the first sync' },
      );

      await watcher.refresh();
      await waitFor(() => Promise.resolve(watcher.state().connected.includes(accountId) || undefined), {
        timeoutMs: 30_000,
        what: 'the IDLE connection (the pokes consumer joined its group first)',
      });
      // connecting pokes every folder (whatever happened while nobody watched)
      await waitFor(() => Promise.resolve(pokesOf(accountId).find((p) => p.everyFolder === true)), {
        timeoutMs: 5000,
        what: 'the poke of the connect',
      });

      // a mail delivered through Postfix → EXISTS on the IDLE → a poke naming INBOX
      let index = pokesOf(accountId).length;
      await deliver(address, 'idle delivery');
      // timed from Postfix accepting the mail: its delivery to Dovecot is part of the latency
      let since = Date.now();
      const delivered = await nextPoke(accountId, index, since, 'SMTP accepted → INBOX created', (p) =>
        names(p, 'created', 'INBOX'),
      );
      expect(delivered.ms).toBeLessThanOrEqual(2000);

      // the pokes consumer runs the round: the mail is mirrored
      const mirrored = await waitFor(
        async () =>
          (
            await harness.db.query<{ remote_id: string; flag_status: string }>(
              `SELECT remote_id, flag_status FROM messages WHERE account_id = $1 AND folder_remote_id = 'INBOX'`,
              [accountId],
            )
          ).rows[0],
        { timeoutMs: 15_000, what: 'the delivered mail in the mirror' },
      );
      expect(mirrored.flag_status).toBe('notFlagged');

      // a flag set in another session → FETCH (FLAGS) on the IDLE → a poke naming INBOX
      index = pokesOf(accountId).length;
      await session(address, async (client) => {
        const lock = await client.getMailboxLock('INBOX');
        try {
          since = Date.now(); // timed from the STORE, not from the other session's login
          await client.messageFlagsAdd('1:*', ['\\Flagged']);
        } finally {
          lock.release();
        }
      });
      const flagged = await nextPoke(
        accountId,
        index,
        since,
        'STORE \\Flagged elsewhere → INBOX updated',
        (p) => names(p, 'updated', 'INBOX'),
      );
      expect(flagged.ms).toBeLessThanOrEqual(2000);
      await waitFor(
        async () =>
          (
            await harness.db.query(
              `SELECT 1 FROM messages WHERE account_id = $1 AND remote_id = $2 AND flag_status = 'flagged'`,
              [accountId, mirrored.remote_id],
            )
          ).rowCount
            ? true
            : undefined,
        { timeoutMs: 15_000, what: 'the flag in the mirror' },
      );

      // a message added to another folder → NOTIFY (Dovecot has it): an unsolicited STATUS of the folder on the
      // IDLE connection, at once (not at the next STATUS poll, every 5 s here)
      expect(watcher.state().notifying).toContain(accountId);
      index = pokesOf(accountId).length;
      await session(address, async (client) => {
        since = Date.now();
        await client.append('Archive', 'Subject: archived\r\nFrom: a@idle.example\r\n\r\nbody\r\n', [
          '\\Seen',
        ]);
      });
      const archived = await nextPoke(
        accountId,
        index,
        since,
        'APPEND to Archive → Archive updated (NOTIFY)',
        (p) => names(p, 'updated', 'Archive'),
        8000,
      );
      expect(archived.ms).toBeLessThanOrEqual(2000);

      // a burst is one poke, not one per message
      index = pokesOf(accountId).length;
      await session(address, async (client) => {
        for (let i = 0; i < 20; i++) {
          await client.append('INBOX', `Subject: burst ${i}\r\nFrom: a@idle.example\r\n\r\nbody\r\n`);
        }
      });
      await waitFor(() => Promise.resolve(pokesOf(accountId).length > index || undefined), {
        timeoutMs: 3000,
        what: 'the burst poke',
      });
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const burst = pokesOf(accountId).slice(index);
      expect(burst.length).toBeGreaterThanOrEqual(1);
      expect(burst.length).toBeLessThanOrEqual(3);
      // and the mirror has every one of them (1 delivered + 20 appended) before the account goes
      await waitFor(
        async () =>
          Number(
            (
              await harness.db.query<{ n: string }>(
                `SELECT count(*) AS n FROM messages WHERE account_id = $1 AND folder_remote_id = 'INBOX'`,
                [accountId],
              )
            ).rows[0].n,
          ) === 21
            ? true
            : undefined,
        { timeoutMs: 15_000, what: 'the burst in the mirror' },
      );

      // unlinked: its connection closes
      await harness.db.query(`DELETE FROM mail_accounts WHERE id = $1`, [accountId]);
      await watcher.refresh();
      expect(watcher.state().idle).not.toContain(accountId);
    }, 120_000);

    it('a refused login pokes once, the round marks the account reauth_required, and nothing reconnects', async () => {
      const { accountId } = await link({ password: 'not-the-password', synced: true });
      await watcher.refresh();
      await waitFor(() => Promise.resolve(pokesOf(accountId).find((p) => p.everyFolder === true)), {
        timeoutMs: 15_000,
        what: 'the poke after the refused login',
      });
      await waitFor(async () => ((await accountStatus(accountId)) === 'reauth_required' ? true : undefined), {
        timeoutMs: 20_000,
        what: 'the account marked reauth_required by the round',
      });
      await watcher.refresh();
      const state = watcher.state();
      expect(state.idle).not.toContain(accountId);
      expect(state.polled).not.toContain(accountId);
      await new Promise((resolve) => setTimeout(resolve, 2500));
      // no reconnect loop: one poke for the refused login
      expect(pokesOf(accountId)).toHaveLength(1);
    }, 60_000);

    it('reconnects after the connection drops, with a poke of every folder (what happened meanwhile)', async () => {
      const { accountId, address } = await link();
      await watcher.refresh();
      await waitFor(() => Promise.resolve(watcher.state().connected.includes(accountId) || undefined), {
        timeoutMs: 30_000,
        what: 'the IDLE connection',
      });
      await waitFor(() => Promise.resolve(pokesOf(accountId).find((p) => p.everyFolder === true)), {
        timeoutMs: 5000,
        what: 'the poke of the connect',
      });
      // the socket dies under the watcher (as a server restart or a network cut would do it)
      const internals = watcher as unknown as {
        watches: Map<string, { connection?: { client: { close(): void } } }>;
      };
      const index = pokesOf(accountId).length;
      const since = Date.now();
      internals.watches.get(accountId)?.connection?.client.close();
      // a mail arriving while it reconnects is caught up by the reconnect's poke
      await deliver(address, 'during the reconnect');
      await nextPoke(
        accountId,
        index,
        since,
        'connection dropped → reconnected, every folder poked',
        (p) => p.everyFolder === true,
        5000,
      );
      expect(watcher.state().connected).toContain(accountId);
      await harness.db.query(`DELETE FROM mail_accounts WHERE id = $1`, [accountId]);
      await watcher.refresh();
    }, 60_000);

    it('owns accounts by the partition their pokes land on (the publisher’s partitioner)', async () => {
      const { accountId } = await link();
      const topic = harness.topic(Topics.mailboxPokes);
      const landed: Array<{ key: string; partition: number }> = [];
      const reader = harness.kafka.consumer({ groupId: `${harness.prefix}partition-check-${accountId}` });
      await reader.connect();
      try {
        await subscribeWhenReady(reader, { topics: [topic], fromBeginning: true });
        await reader.run({
          eachMessage: ({ partition, message }) => {
            landed.push({ key: message.key?.toString() ?? '', partition });
            return Promise.resolve();
          },
        });
        await harness.publisher.publish(topic, accountId, {
          type: 'mailbox.poke',
          v: 1,
          accountId,
          source: 'reconcile',
          changes: [],
          everyFolder: true,
          receivedAt: new Date().toISOString(),
        });
        const found = await waitFor(() => Promise.resolve(landed.find((m) => m.key === accountId)), {
          timeoutMs: 20_000,
          what: 'the poke keyed by the account',
        });
        const admin = harness.kafka.admin();
        await admin.connect();
        const metadata = await admin
          .fetchTopicMetadata({ topics: [topic] })
          .finally(() => admin.disconnect());
        expect(found.partition).toBe(partitionOfKey(accountId, metadata.topics[0].partitions.length));
      } finally {
        await reader.disconnect();
      }
      await watcher.refresh();
      expect(watcher.state().idle).toContain(accountId);
    }, 40_000);
  },
);

describeStack('the IMAP watcher beyond its connection budget (IMAP_MAX_CONNECTIONS=0: STATUS polls)', () => {
  beforeAll(async () => {
    await startWatching('imap-idle-polled', { IMAP_MAX_CONNECTIONS: '0' });
  }, 120_000);

  afterAll(async () => {
    await harness?.close();
  });

  it('polls the account instead of IDLE: its first poll catches up, a delivered mail pokes INBOX at the next poll', async () => {
    const { accountId, address } = await link();
    await watcher.refresh();
    await waitFor(() => Promise.resolve(watcher.state().polled.includes(accountId) || undefined), {
      timeoutMs: 30_000,
      what: 'the account polled (the pokes consumer joined its group first)',
    });
    expect(watcher.state().idle).toEqual([]);
    await waitFor(() => Promise.resolve(pokesOf(accountId).find((p) => p.everyFolder === true)), {
      timeoutMs: 30_000,
      what: "the first poll's catch-up poke",
    });
    const index = pokesOf(accountId).length;
    await deliver(address, 'polled delivery');
    const since = Date.now();
    const { ms } = await nextPoke(
      accountId,
      index,
      since,
      'SMTP accepted → INBOX updated (polled account, STATUS every 5 s)',
      (p) => names(p, 'updated', 'INBOX'),
      8000,
    );
    expect(ms).toBeLessThanOrEqual(8000);
    await harness.db.query(`DELETE FROM mail_accounts WHERE id = $1`, [accountId]);
    await watcher.refresh();
    expect(watcher.state().polled).not.toContain(accountId);
  }, 60_000);
});
