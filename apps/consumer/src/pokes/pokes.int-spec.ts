import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import {
  failedMessageSchema,
  Topics,
  topicName,
  type DomainEvent,
  type MailboxPoke,
  type MailboxPokeChange,
  type MailChange,
  type MailChanged,
  type SubscriptionWork,
} from '@email-core/contracts';
import type { KafkaPublisher } from '@email-core/kafka';
import { OutlookProvider } from '@email-core/providers';
import {
  currentTestRun,
  seededRandom,
  startEmulator,
  exportedState,
  mirroredState,
  waitFor,
  type RunningEmulator,
} from '@email-core/testing';
import { startConsumerHarness, type ConsumerHarness } from '../mirror/testing/consumer-harness';
import { withoutWatch } from '../mirror/testing/test-providers';

/**
 * Change processing on the real Postgres, Kafka and Redis Cluster against the real emulator: the consumer app
 * runs in-process under a topic prefix of its own, syncs two mailboxes, then gets `mailbox.poke` messages
 * (duplicated, out of order, mixed with a malformed one) for creates, updates, moves and deletes made through the
 * emulator's admin API. The mirror must equal the emulator's export, the change log must be gapless, and the
 * `mail.changed` events must carry exactly the logged changes with the right seqs.
 */

interface ExportFolder {
  id: string;
  isHidden?: boolean;
  wellKnownName: string | null;
  path: string;
  totalItemCount: number;
  unreadItemCount: number;
}
interface ExportMessage {
  id: string;
  immutableId: string;
  parentFolderId: string;
  changeKey: string;
  subject: string;
  isRead: boolean;
  flag: { flagStatus: string };
}
interface Export {
  userId: string;
  folders: ExportFolder[];
  messages: ExportMessage[];
}
interface Written {
  id: string;
  immutableId: string;
  parentFolderId: string;
}

const run = currentTestRun();
const prefix = `${run.topicPrefix}notify-it.`;
const topic = (t: (typeof Topics)[keyof typeof Topics]) => topicName(prefix, t);

describe('change processing (real Postgres, Kafka, Redis; the emulator as Graph)', () => {
  let emulator: RunningEmulator;
  let harness: ConsumerHarness;
  let publisher: KafkaPublisher;
  let db: Client;
  let userId = '';
  const events = () => harness.seen(Topics.events) as DomainEvent[];
  const subscriptionWork = () => harness.seen(Topics.subscriptions) as SubscriptionWork[];
  const failed = () => [
    ...harness
      .seen(Topics.retry)
      .map((v) => ({ topic: topic(Topics.retry), envelope: failedMessageSchema.parse(v) })),
    ...harness
      .seen(Topics.deadLetter)
      .map((v) => ({ topic: topic(Topics.deadLetter), envelope: failedMessageSchema.parse(v) })),
  ];
  const tokens = new Map<string, string>();
  const mailboxes = new Map<string, { address: string; graphUserId: string }>();
  const random = seededRandom(2026);

  /** the Outlook adapter on the emulator, each account's token from the emulator's admin API */
  const outlook = () =>
    OutlookProvider.create({
      graphBaseUrl: emulator.origin,
      accessToken: async (accountId, opts) => {
        const mailbox = mailboxes.get(accountId);
        if (!mailbox) throw new Error(`no mailbox for ${accountId}`);
        let token = tokens.get(mailbox.address);
        if (!token || opts?.forceRefresh) {
          token = (
            await emulator.admin<{ access_token: string }>('POST', '/_emulator/tokens', {
              address: mailbox.address,
            })
          ).access_token;
          tokens.set(mailbox.address, token);
        }
        return token;
      },
    });

  const exportOf = (address: string) =>
    emulator.admin<Export>('GET', `/_emulator/mailboxes/${address}/export?bodies=false`);

  const link = async (address: string, messages: number, seed: number): Promise<string> => {
    const created = await emulator.admin<{ userId: string }>('POST', '/_emulator/mailboxes', {
      address,
      seed: { messages, folders: 3, seed },
    });
    const id = randomUUID();
    await db.query(
      `INSERT INTO mail_accounts (id, user_id, external_user_id, email) VALUES ($1, $2, $3, $4)`,
      [id, userId, created.userId, address],
    );
    mailboxes.set(id, { address, graphUserId: created.userId });
    return id;
  };

  const syncAndWait = async (accountId: string) => {
    await publisher.publish(topic(Topics.syncRequests), accountId, {
      type: 'sync.requested',
      v: 1,
      accountId,
      reason: 'linked',
      requestedAt: new Date().toISOString(),
    });
    return waitFor(
      () => Promise.resolve(events().find((e) => e.type === 'sync.completed' && e.accountId === accountId)),
      { timeoutMs: 60000, intervalMs: 100, what: `sync.completed of ${accountId}` },
    );
  };

  /** The mirror and the export, projected onto what both hold (libs/testing). */
  const mirrorOf = (accountId: string) => mirroredState(db, accountId);
  const truthOf = (accountId: string) =>
    exportedState(emulator.admin, mailboxes.get(accountId)?.address ?? '');

  /** Waits until the mirror equals the export, then asserts it (so a mismatch shows as a diff). */
  const expectConverged = async (accountId: string) => {
    const truth = await truthOf(accountId);
    await waitFor(
      async () => (JSON.stringify(await mirrorOf(accountId)) === JSON.stringify(truth) ? true : undefined),
      { timeoutMs: 30000, intervalMs: 200, what: `the mirror of ${accountId} to equal the export` },
    ).catch(() => undefined);
    expect(await mirrorOf(accountId)).toEqual(truth);
  };

  const changeLog = async (accountId: string) => {
    const rows = (
      await db.query<{
        seq: string;
        kind: MailChange['kind'];
        message_graph_id: string;
        folder_graph_id: string;
      }>(
        `SELECT seq, kind, message_remote_id AS message_graph_id, folder_remote_id AS folder_graph_id
         FROM mail_changes WHERE account_id = $1 ORDER BY seq`,
        [accountId],
      )
    ).rows.map((r): MailChange => ({
      seq: Number(r.seq),
      kind: r.kind,
      messageId: r.message_graph_id,
      folderId: r.folder_graph_id,
    }));
    const latest = Number(
      (
        await db.query<{ change_seq: string }>(`SELECT change_seq FROM mail_accounts WHERE id = $1`, [
          accountId,
        ])
      ).rows[0].change_seq,
    );
    return { rows, latest };
  };

  const mailChanged = (accountId: string) =>
    events().filter((e): e is MailChanged => e.type === 'mail.changed' && e.accountId === accountId);

  /**
   * The change log is gapless (1..change_seq), and the mail.changed events carry exactly its changes: each event
   * a contiguous run whose last seq is the event's seq, in increasing order, none twice.
   */
  const expectLogAnnounced = async (accountId: string) => {
    const log = await changeLog(accountId);
    expect(log.rows.map((c) => c.seq)).toEqual(log.rows.map((_c, i) => i + 1));
    expect(log.latest).toBe(log.rows.length);
    const announced = await waitFor(
      () => {
        const got = mailChanged(accountId);
        return Promise.resolve(got.flatMap((e) => e.changes).length >= log.rows.length ? got : undefined);
      },
      { timeoutMs: 15000, intervalMs: 100, what: `mail.changed events up to seq ${log.latest}` },
    );
    for (const e of announced) {
      expect(e.userId).toBe(userId);
      expect(e.seq).toBe(e.changes[e.changes.length - 1].seq);
      e.changes.forEach((c, i) => expect(c.seq).toBe(e.changes[0].seq + i));
    }
    // Folders of one round commit in parallel, so their events may reach Kafka out of seq order (a known limit,
    // see docs/realtime.md: clients order by seq); together they announce exactly the log, each change once.
    const bySeq = [...announced].sort((a, b) => a.seq - b.seq);
    expect(bySeq.flatMap((e) => e.changes)).toEqual(log.rows);
    return { log: log.rows, announced };
  };

  /** A change as the webhook pokes it for a Graph notification item (the message's id; no folder). */
  const item = (
    _accountId: string,
    kind: MailboxPokeChange['kind'],
    messageId: string,
  ): MailboxPokeChange => ({ kind, messageId });

  /** Publishes the changes as pokes of 1-3 changes, shuffled, a third of them twice; answers the earliest receipt. */
  const notify = async (accountId: string, items: MailboxPokeChange[]): Promise<string> => {
    const base = Date.now() - 5000;
    const notes: MailboxPoke[] = [];
    for (let i = 0; i < items.length;) {
      const n = 1 + Math.floor(random() * 3);
      notes.push({
        type: 'mailbox.poke',
        v: 1,
        accountId,
        source: 'webhook',
        changes: items.slice(i, i + n),
        receivedAt: new Date(base + notes.length * 10).toISOString(),
      });
      i += n;
    }
    const sends = [...notes, ...notes.filter(() => random() < 0.35)];
    for (let i = sends.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [sends[i], sends[j]] = [sends[j], sends[i]];
    }
    for (const n of sends) await publisher.publish(topic(Topics.mailboxPokes), accountId, n);
    return notes[0].receivedAt;
  };

  beforeAll(async () => {
    emulator = await startEmulator({ EMULATOR_THROTTLING: 'true' });
    harness = await startConsumerHarness({
      name: 'notify-it',
      env: { SYNC_PAGE_SIZE: '50' },
      app: { mailProviders: [withoutWatch(outlook())] },
      observe: [Topics.events, Topics.subscriptions, Topics.retry, Topics.deadLetter],
    });
    ({ publisher, db, userId } = harness);
  }, 120000);

  afterAll(async () => {
    await harness?.close();
    await emulator?.stop();
  });

  let alice = '';
  let bob = '';
  const aliceAddress = 'live-alice@contoso.example';
  const bobAddress = 'live-bob@contoso.example';

  it('syncs the mailboxes (nothing logged: a first sync is not live news) and asks for their subscriptions', async () => {
    alice = await link(aliceAddress, 120, 11);
    bob = await link(bobAddress, 40, 12);
    await Promise.all([syncAndWait(alice), syncAndWait(bob)]);
    await expectConverged(alice);
    await expectConverged(bob);
    for (const id of [alice, bob]) expect((await changeLog(id)).rows).toEqual([]);
    await waitFor(
      () =>
        Promise.resolve(
          [alice, bob].every((id) =>
            subscriptionWork().some(
              (w) => w.type === 'subscription.ensure' && w.accountId === id && w.reason === 'synced',
            ),
          )
            ? true
            : undefined,
        ),
      { timeoutMs: 10000, intervalMs: 100, what: 'subscription.ensure for both accounts' },
    );
  }, 120000);

  it('applies creates, updates, moves and deletes from duplicated, reordered notifications; logs and announces them', async () => {
    const before = await exportOf(aliceAddress);
    const folderId = (name: string) =>
      before.folders.find((f) => f.wellKnownName === name || f.path === name)?.id;
    const inbox = folderId('inbox') as string;
    const archive = folderId('archive') as string;
    const custom = before.folders.find((f) => f.path.startsWith('Inbox/'))?.id as string;
    expect(custom).toBeDefined();
    const inInbox = before.messages.filter((m) => m.parentFolderId === inbox);
    const elsewhere = before.messages.filter((m) => m.parentFolderId !== inbox);
    const a = (method: string, path: string, body?: unknown) =>
      emulator.admin<Written>(method, `/_emulator/mailboxes/${aliceAddress}${path}`, body);
    const items: MailboxPokeChange[] = [];
    const expected = { created: new Set<string>(), upserted: new Set<string>(), removed: new Set<string>() };

    // new mail, into the Inbox and into a nested folder
    for (let i = 0; i < 6; i++) {
      const w = await a('POST', '/messages', {
        subject: `live ${i}`,
        folder: i % 3 === 2 ? custom : 'inbox',
        body: { contentType: 'text', content: `body ${i}` },
        from: { emailAddress: { name: 'Carol', address: 'carol@contoso.example' } },
      });
      items.push(item(alice, 'created', w.immutableId));
      expected.created.add(w.immutableId);
    }
    // read, flagged, renamed; one changed twice
    for (const [i, m] of inInbox.slice(0, 5).entries()) {
      await a(
        'PATCH',
        `/messages/${m.id}`,
        i % 2 ? { isRead: !m.isRead } : { flag: { flagStatus: 'flagged' } },
      );
      items.push(item(alice, 'updated', m.immutableId));
      expected.upserted.add(m.immutableId);
    }
    await a('PATCH', `/messages/${inInbox[0].id}`, { subject: 'renamed twice' });
    items.push(item(alice, 'updated', inInbox[0].immutableId));
    // moves: a move is `deleted` + `created` of the same immutable id
    const moved: string[] = [];
    for (const [i, m] of inInbox.slice(5, 9).entries()) {
      await a('POST', `/messages/${m.id}/move`, { destinationId: i % 2 ? archive : custom });
      items.push(item(alice, 'deleted', m.immutableId), item(alice, 'created', m.immutableId));
      expected.upserted.add(m.immutableId);
      moved.push(m.immutableId);
    }
    // deletes, from the Inbox and elsewhere
    for (const m of [...inInbox.slice(9, 12), ...elsewhere.slice(0, 2)]) {
      await a('DELETE', `/messages/${m.id}`);
      items.push(item(alice, 'deleted', m.immutableId));
      expected.removed.add(m.immutableId);
    }
    // created then deleted before the round: nothing to apply, nothing to log
    const ephemeral = await a('POST', '/messages', { subject: 'gone at once' });
    await a('DELETE', `/messages/${ephemeral.id}`);
    items.push(item(alice, 'created', ephemeral.immutableId), item(alice, 'deleted', ephemeral.immutableId));
    // a move whose `created` never comes: the round follows the removed message to its new folder
    const lostCreate = inInbox[12];
    const untouched = before.folders.find(
      (f) =>
        !f.isHidden &&
        ![inbox, archive, custom, ...elsewhere.slice(0, 2).map((m) => m.parentFolderId)].includes(f.id),
    )?.id as string;
    expect(untouched).toBeDefined();
    await a('POST', `/messages/${lostCreate.id}/move`, { destinationId: untouched });
    items.push(item(alice, 'deleted', lostCreate.immutableId));
    expected.upserted.add(lostCreate.immutableId);
    moved.push(lostCreate.immutableId);

    // Bob's mailbox changes in the same batch: rounds are per account
    const bobNew = await emulator.admin<Written>('POST', `/_emulator/mailboxes/${bobAddress}/messages`, {
      subject: 'for bob',
    });

    const invalid = `{"type":"mailbox.poke","v":1,"accountId":"${alice}"`; // cut short
    await publisher.publish(topic(Topics.mailboxPokes), alice, invalid);
    const notifiedAt = await notify(alice, items);
    await notify(bob, [item(bob, 'created', bobNew.immutableId)]);

    await expectConverged(alice);
    await expectConverged(bob);
    const { log, announced } = await expectLogAnnounced(alice);
    const latest = new Map(log.map((c) => [c.messageId, c]));
    // new mail is logged as created, changes and moves of messages the mirror held as upserted
    for (const id of expected.created) expect(latest.get(id)?.kind).toBe('created');
    for (const id of expected.upserted) expect(latest.get(id)?.kind).toBe('upserted');
    for (const id of expected.removed) expect(latest.get(id)?.kind).toBe('removed');
    // a moved message is never missing from the mirror, whichever folder's delta runs first: its old folder's
    // removal moves it straight to its new folder, so nothing logs it as removed
    expect(log.filter((c) => moved.includes(c.messageId) && c.kind === 'removed')).toEqual([]);
    expect(latest.has(ephemeral.immutableId)).toBe(false);
    // duplicates changed nothing twice: each message is logged once per folder it was written to or removed from
    const perMessage = new Map<string, number>();
    for (const c of log) perMessage.set(c.messageId, (perMessage.get(c.messageId) ?? 0) + 1);
    for (const [id, n] of perMessage) expect(n).toBeLessThanOrEqual(expected.upserted.has(id) ? 2 : 1);
    // each event answers the earliest notification of its round, and carries the touched folders' counts
    expect(announced.every((e) => e.notifiedAt !== undefined && e.notifiedAt >= notifiedAt)).toBe(true);
    const truth = await truthOf(alice);
    const lastCounts = new Map(announced.flatMap((e) => e.folders).map((f) => [f.folderId, f]));
    for (const [id, f] of lastCounts) {
      const t = truth.folders.find((x) => x.id === id);
      expect({ total: f.totalCount, unread: f.unreadCount }).toEqual({
        total: t?.total,
        unread: t?.unread,
      });
    }
    const bobLog = await expectLogAnnounced(bob);
    expect(bobLog.log).toEqual([
      expect.objectContaining({ seq: 1, kind: 'created', messageId: bobNew.immutableId }),
    ]);

    // the malformed message was dead-lettered, without blocking the partition
    const dead = await waitFor(
      () =>
        Promise.resolve(
          failed().find((f) => f.topic === topic(Topics.deadLetter) && f.envelope.value === invalid),
        ),
      { timeoutMs: 10000, intervalMs: 100, what: 'the dead-lettered notification' },
    );
    expect(dead.envelope.error).toBe('INVALID_MESSAGE: value is not JSON');
    expect(
      failed().filter((f) => f.envelope.topic === topic(Topics.mailboxPokes) && f.envelope.value !== invalid),
    ).toEqual([]);
  }, 120000);

  it('a notification that names no message runs every folder, catching changes nobody notified', async () => {
    const seqBefore = (await changeLog(alice)).latest;
    await emulator.admin('POST', `/_emulator/mailboxes/${aliceAddress}/activity`, {
      creates: 8,
      updates: 8,
      moves: 4,
      deletes: 4,
      seed: 5,
      wait: true,
    });
    // a change that names neither a message nor a folder
    await notify(alice, [{ kind: 'updated' }]);
    await expectConverged(alice);
    const { log } = await expectLogAnnounced(alice);
    expect(log.length).toBeGreaterThan(seqBefore);
  }, 120000);

  it('a lost delta state (410 SyncStateNotFound) rebuilds the folders from scratch and still converges, gaplessly', async () => {
    const since = (await db.query<{ now: Date }>('SELECT now()')).rows[0].now;
    const seqBefore = (await changeLog(alice)).latest;
    const messagesBefore = (await mirrorOf(alice)).messages.length;
    // sampled while the folders are rebuilt: a rebuild keeps a folder's messages until its last page
    let fewest = messagesBefore;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const { rows } = await db.query<{ n: string }>(
          'SELECT count(*) AS n FROM messages WHERE account_id = $1',
          [alice],
        );
        fewest = Math.min(fewest, Number(rows[0].n));
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await emulator.admin('POST', '/_emulator/faults', { expireDeltaTokens: aliceAddress });
    const w = await emulator.admin<Written>('POST', `/_emulator/mailboxes/${aliceAddress}/messages`, {
      subject: 'after the tokens expired',
    });
    await notify(alice, [item(alice, 'created', w.immutableId)]);
    // the mirror equals the export already once the notified folder is rebuilt, before the round goes on to
    // rebuild every other folder: wait until each one has a deltaLink stored after the fault
    await waitFor(
      async () => {
        const { rows } = await db.query<{ n: string }>(
          `SELECT count(*) AS n FROM mail_folders
            WHERE account_id = $1 AND (synced_at IS NULL OR synced_at <= $2 OR cursor IS NULL)`,
          [alice, since],
        );
        return rows[0].n === '0' ? true : undefined;
      },
      { timeoutMs: 30000, intervalMs: 200, what: 'every folder of alice rebuilt from scratch' },
    );
    sampling = false;
    await sampler;
    await expectConverged(alice);
    const { log } = await expectLogAnnounced(alice);
    expect(log.at(-1)).toBeDefined();
    expect(log.some((c) => c.messageId === w.immutableId && c.kind === 'created')).toBe(true);
    // nothing was deleted in Outlook: the rebuilds removed nothing, and no folder was ever empty meanwhile
    expect(log.filter((c) => c.seq > seqBefore && c.kind === 'removed')).toEqual([]);
    expect(fewest).toBe(messagesBefore);
    const links = (
      await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM mail_folders WHERE account_id = $1 AND (cursor IS NULL OR next_cursor IS NOT NULL)`,
        [alice],
      )
    ).rows[0].n;
    expect(links).toBe('0');
  }, 120000);
});
