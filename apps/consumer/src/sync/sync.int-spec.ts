import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import { CacheKeys, createRedisCluster } from '@email-core/cache';
import {
  failedMessageSchema,
  Topics,
  topicName,
  type DomainEvent,
  type SyncRequested,
} from '@email-core/contracts';
import {
  CursorLostError,
  ReauthRequiredError,
  type ChangesFrom,
  type ChangesPage,
  type MailboxReader,
  type RemoteFolder,
  type RemoteMessage,
} from '@email-core/providers';
import type { KafkaPublisher } from '@email-core/kafka';
import { currentTestRun, waitFor } from '@email-core/testing';
import { startConsumerHarness, type ConsumerHarness } from '../mirror/testing/consumer-harness';
import { scriptedProvider } from '../mirror/testing/test-providers';

/**
 * The consumer's sync on the real Postgres, Kafka and Redis Cluster, with Microsoft replaced by an in-memory
 * mailbox (the graph lib's client is tested against the emulator on its own). The whole consumer module runs
 * in-process under a topic prefix of its own, so the consumer process other suites boot never competes for it.
 */

// ---- an in-memory Graph: folders, messages, per-folder delta with next/delta links and a change log ----

type Change = { version: number; id: string; removed: boolean };

class FakeMailbox implements MailboxReader {
  folders: RemoteFolder[] = [];
  private readonly messages = new Map<string, RemoteMessage>();
  private readonly log = new Map<string, Change[]>();
  private version = 0;
  /** folders whose stored delta links Graph has forgotten (410 SyncStateNotFound) */
  readonly expired = new Set<string>();
  treeFailures = 0;
  reauth = false;
  alwaysFail = false;
  deltaCalls = 0;

  addFolder(id: string, displayName: string, parentFolderId: string | null): void {
    this.folders.push({
      id,
      displayName,
      parentFolderId,
      wellKnownName: null,
      totalItemCount: 0,
      unreadItemCount: 0,
    });
  }

  put(message: RemoteMessage): void {
    const before = this.messages.get(message.id);
    if (before && before.folderId !== message.folderId) this.record(before.folderId, message.id, true);
    this.messages.set(message.id, message);
    this.record(message.folderId, message.id, false);
  }

  remove(id: string): void {
    const m = this.messages.get(id);
    if (!m) return;
    this.messages.delete(id);
    this.record(m.folderId, id, true);
  }

  get(id: string): RemoteMessage {
    const m = this.messages.get(id);
    if (!m) throw new Error(`no message ${id}`);
    return m;
  }

  inFolder(folderId: string): RemoteMessage[] {
    return [...this.messages.values()]
      .filter((m) => m.folderId === folderId)
      .sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  private record(folderId: string, id: string, removed: boolean): void {
    this.version += 1;
    const list = this.log.get(folderId) ?? [];
    list.push({ version: this.version, id, removed });
    this.log.set(folderId, list);
  }

  folderOf(id: string): Promise<string | null> {
    return Promise.resolve(this.messages.get(id)?.folderId ?? null);
  }

  listFolderTree(): Promise<RemoteFolder[]> {
    if (this.reauth) return Promise.reject(new ReauthRequiredError('invalid_grant', '70008'));
    if (this.alwaysFail) return Promise.reject(new Error('Graph is down'));
    if (this.treeFailures > 0) {
      this.treeFailures -= 1;
      return Promise.reject(new Error('transient failure'));
    }
    return Promise.resolve(this.folders.map((f) => ({ ...f })));
  }

  changes(start: ChangesFrom, pageSize = 10): Promise<ChangesPage> {
    this.deltaCalls += 1;
    if ('folderId' in start)
      return Promise.resolve(this.scratchPage(start.folderId, 0, this.version, pageSize));
    const [kind, folderId, a, b] = start.cursor.replace('https://graph.fake/', '').split('/');
    if (kind === 'next') return Promise.resolve(this.scratchPage(folderId, Number(a), Number(b), pageSize));
    if (this.expired.has(folderId)) {
      this.expired.delete(folderId);
      return Promise.reject(new CursorLostError('SyncStateNotFound'));
    }
    // a delta round: every id that changed after the link's version, in its current state
    const since = Number(a);
    const changed = new Map<string, boolean>();
    for (const c of this.log.get(folderId) ?? []) if (c.version > since) changed.set(c.id, c.removed);
    const messages: RemoteMessage[] = [];
    const removedIds: string[] = [];
    for (const [id, removed] of changed) {
      const m = this.messages.get(id);
      if (removed || !m || m.folderId !== folderId) removedIds.push(id);
      else messages.push({ ...m });
    }
    return Promise.resolve({
      messages,
      removedIds,
      cursor: `https://graph.fake/delta/${folderId}/${this.version}`,
    });
  }

  private scratchPage(folderId: string, offset: number, version: number, pageSize: number): ChangesPage {
    const all = this.inFolder(folderId);
    const slice = all.slice(offset, offset + pageSize).map((m) => ({ ...m }));
    const end = offset + pageSize >= all.length;
    return end
      ? { messages: slice, removedIds: [], cursor: `https://graph.fake/delta/${folderId}/${version}` }
      : {
          messages: slice,
          removedIds: [],
          nextCursor: `https://graph.fake/next/${folderId}/${offset + pageSize}/${version}`,
        };
  }
}

let seq = 0;
function graphMessage(folderId: string, overrides: Partial<RemoteMessage> = {}): RemoteMessage {
  seq += 1;
  const id = `AAMk-${String(seq).padStart(5, '0')}`;
  return {
    id,
    folderId,
    changeKey: `ck-${id}-1`,
    subject: `Subject ${seq}`,
    from: { name: `Sender ${seq % 5}`, address: `sender${seq % 5}@contoso.example` },
    toRecipients: [{ name: 'Me', address: 'me@contoso.example' }],
    ccRecipients: seq % 3 === 0 ? [{ name: 'O\'Brien "Q"', address: 'cc@contoso.example' }] : [],
    bodyPreview: `preview ${seq}`,
    body: {
      contentType: 'html',
      content: `<html><head><style>.x{color:red}</style></head><body><div class="greeting">Hello ${seq}</div><p>quarterly report number${seq} &amp; more</p></body></html>`,
    },
    receivedAt: new Date(Date.UTC(2025, 0, 1) + seq * 60000).toISOString(),
    sentAt: new Date(Date.UTC(2025, 0, 1) + seq * 60000 - 5000).toISOString(),
    isRead: seq % 4 === 0,
    flagStatus: seq % 7 === 0 ? 'flagged' : 'notFlagged',
    importance: 'normal',
    hasAttachments: seq % 9 === 0,
    conversationId: `conv-${seq % 10}`,
    internetMessageId: `<${id}@contoso.example>`,
    ...overrides,
  };
}

// ---- the harness ----

const run = currentTestRun();
const prefix = `${run.topicPrefix}sync-it.`;
const topic = (t: (typeof Topics)[keyof typeof Topics]) => topicName(prefix, t);

describe('sync worker (real Postgres, Kafka, Redis; Graph faked)', () => {
  const mailboxes = new Map<string, FakeMailbox>();
  const provider = scriptedProvider((accountId) => {
    const mailbox = mailboxes.get(accountId);
    if (!mailbox) throw new Error(`no fake mailbox for ${accountId}`);
    return mailbox;
  });
  let harness: ConsumerHarness;
  let publisher: KafkaPublisher;
  let db: Client;
  const redis = createRedisCluster({ nodes: run.redisClusterNodes, keyPrefix: run.redisKeyPrefix });
  const events = () => harness.seen(Topics.events) as DomainEvent[];
  const retries = () => harness.seen(Topics.retry).map((v) => failedMessageSchema.parse(v));
  const deadLetters = () => harness.seen(Topics.deadLetter).map((v) => failedMessageSchema.parse(v));
  /**
   * Retries of a sync request. The subscription each completed sync asks for fails on its own topic here (these
   * accounts have no stored tokens: only the sync's Graph is faked), with the same key.
   */
  const syncRetries = (key: string) =>
    retries().filter((r) => r.key === key && r.topic === topic(Topics.syncRequests));
  let userId = '';

  const newAccount = async (): Promise<string> => {
    const id = randomUUID();
    await db.query(
      `INSERT INTO mail_accounts (id, user_id, external_user_id, email) VALUES ($1, $2, $3, $4)`,
      [id, userId, `ext-${id}`, `${id}@contoso.example`],
    );
    return id;
  };

  const request = (accountId: string, reason: SyncRequested['reason'] = 'linked'): SyncRequested => ({
    type: 'sync.requested',
    v: 1,
    accountId,
    reason,
    requestedAt: new Date().toISOString(),
  });

  const completions = (accountId: string) =>
    events().filter((e) => e.type === 'sync.completed' && e.accountId === accountId);

  const syncAndWait = async (accountId: string, reason: SyncRequested['reason'] = 'linked') => {
    const before = completions(accountId).length;
    await publisher.publish(topic(Topics.syncRequests), accountId, request(accountId, reason));
    return waitFor(async () => Promise.resolve(completions(accountId)[before]), {
      timeoutMs: 20000,
      intervalMs: 50,
      what: `sync.completed of ${accountId}`,
    });
  };

  beforeAll(async () => {
    harness = await startConsumerHarness({
      name: 'sync-it',
      env: {
        SYNC_PAGE_SIZE: '7',
        SYNC_PROGRESS_EVERY_PAGES: '2',
        // the configuration's own default (the harness otherwise keeps the watchers' sweep out of the way)
        SUBSCRIPTION_CHECK_INTERVAL_MS: '60000',
      },
      app: { mailProviders: [provider] },
      observe: [Topics.events, Topics.retry, Topics.deadLetter],
    });
    ({ publisher, db, userId } = harness);
  });

  afterAll(async () => {
    await harness?.close();
    redis.disconnect();
  });

  // Shared by the first three tests: a mailbox with nested folders, an empty folder and paged folders.
  const mailbox = new FakeMailbox();
  let accountId = '';
  const seedMailbox = () => {
    mailbox.addFolder('f-inbox', 'Inbox', 'root');
    mailbox.addFolder('f-projects', 'Projects', 'f-inbox');
    mailbox.addFolder('f-2025', '2025', 'f-projects');
    mailbox.addFolder('f-archive', 'Archive', 'root');
    mailbox.addFolder('f-empty', 'Empty', 'root');
    for (let i = 0; i < 23; i++) mailbox.put(graphMessage('f-inbox'));
    for (let i = 0; i < 9; i++) mailbox.put(graphMessage('f-projects'));
    for (let i = 0; i < 14; i++) mailbox.put(graphMessage('f-2025'));
    for (let i = 0; i < 7; i++) mailbox.put(graphMessage('f-archive'));
    mailbox.put(
      graphMessage('f-inbox', {
        subject: 'nul\u0000byte',
        body: { contentType: 'text', content: 'plain zebra text' },
      }),
    );
  };

  const folderRows = async (id: string) =>
    (
      await db.query<{
        graph_id: string;
        parent_graph_id: string | null;
        total_count: number;
        unread_count: number;
        next_link: string | null;
        delta_link: string | null;
      }>(
        `SELECT remote_id AS graph_id, parent_remote_id AS parent_graph_id, total_count, unread_count,
                next_cursor AS next_link, cursor AS delta_link
         FROM mail_folders WHERE account_id = $1 ORDER BY remote_id`,
        [id],
      )
    ).rows;

  const snapshot = async (id: string) => ({
    messages: (
      await db.query(
        `SELECT remote_id, folder_remote_id, change_key, is_read, updated_at, xmin::text AS xmin
         FROM messages WHERE account_id = $1 ORDER BY remote_id`,
        [id],
      )
    ).rows,
    bodies: (
      await db.query(
        `SELECT remote_id, content, xmin::text AS xmin FROM message_bodies WHERE account_id = $1 ORDER BY remote_id`,
        [id],
      )
    ).rows,
    folders: (
      await db.query(
        `SELECT remote_id, parent_remote_id, display_name, total_count, unread_count
         FROM mail_folders WHERE account_id = $1 ORDER BY remote_id`,
        [id],
      )
    ).rows,
  });

  it('mirrors the folder tree and every message with its body, stores the links and announces completion', async () => {
    seedMailbox();
    accountId = await newAccount();
    mailboxes.set(accountId, mailbox);

    const completed = await syncAndWait(accountId);
    expect(completed).toMatchObject({ type: 'sync.completed', userId, folders: 5, messages: 54 });

    const folders = await folderRows(accountId);
    expect(folders.map((f) => [f.graph_id, f.parent_graph_id])).toEqual([
      ['f-2025', 'f-projects'],
      ['f-archive', 'root'],
      ['f-empty', 'root'],
      ['f-inbox', 'root'],
      ['f-projects', 'f-inbox'],
    ]);
    for (const f of folders) {
      expect(f.next_link).toBeNull();
      expect(f.delta_link).toMatch(/^https:\/\/graph\.fake\/delta\//);
      const expected = mailbox.inFolder(f.graph_id);
      expect(f.total_count).toBe(expected.length);
      expect(f.unread_count).toBe(expected.filter((m) => !m.isRead).length);
    }

    const rows = (
      await db.query<{
        graph_id: string;
        folder_graph_id: string;
        subject: string;
        to_recipients: unknown;
        cc_recipients: unknown;
        content: string;
      }>(
        `SELECT m.remote_id AS graph_id, m.folder_remote_id AS folder_graph_id, m.subject, m.to_recipients,
                m.cc_recipients, b.content
         FROM messages m JOIN message_bodies b USING (account_id, remote_id) WHERE m.account_id = $1`,
        [accountId],
      )
    ).rows;
    expect(rows).toHaveLength(54);
    for (const r of rows) {
      const m = mailbox.get(r.graph_id);
      expect(r.folder_graph_id).toBe(m.folderId);
      expect(r.subject).toBe(m.subject.replaceAll('\u0000', ''));
      expect(r.content).toBe(m.body.content); // the full body, not the preview
      expect(r.to_recipients).toEqual(m.toRecipients);
      expect(r.cc_recipients).toEqual(m.ccRecipients);
    }

    // full text: body words (HTML stripped), subject, sender; never tag names or CSS
    const search = async (q: string) =>
      Number(
        (
          await db.query<{ n: string }>(
            `SELECT count(*) AS n FROM messages WHERE account_id = $1 AND search @@ plainto_tsquery('simple', $2)`,
            [accountId, q],
          )
        ).rows[0].n,
      );
    expect(await search('quarterly')).toBe(53);
    expect(await search('zebra')).toBe(1);
    expect(await search('sender3')).toBeGreaterThan(0);
    expect(await search('contoso')).toBe(54);
    expect(await search('greeting')).toBe(0);
    expect(await search('color')).toBe(0);

    const account = (
      await db.query<{ status: string; sync_completed_at: Date | null }>(
        `SELECT status, sync_completed_at FROM mail_accounts WHERE id = $1`,
        [accountId],
      )
    ).rows[0];
    expect(account.status).toBe('synced');
    expect(account.sync_completed_at).not.toBeNull();

    const progress = events().filter((e) => e.type === 'sync.progress' && e.accountId === accountId);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.every((p) => p.userId === userId)).toBe(true);
    expect(Number(await redis.get(CacheKeys.accountVersion(accountId)))).toBeGreaterThan(0);
  });

  it('a redelivered request changes nothing and adds no rows', async () => {
    const before = await snapshot(accountId);
    const completed = await syncAndWait(accountId);
    expect(completed).toMatchObject({ folders: 5, messages: 54 });
    expect(await snapshot(accountId)).toEqual(before);
  });

  it('applies moves, deletions, updates and a lost delta state incrementally', async () => {
    const inbox = mailbox.inFolder('f-inbox');
    const moved = inbox[0];
    const deleted = inbox[1];
    const readNow = inbox.find((m) => !m.isRead && m.id !== moved.id && m.id !== deleted.id) as RemoteMessage;
    mailbox.put({ ...moved, folderId: 'f-archive', changeKey: `${moved.changeKey}-moved` });
    mailbox.remove(deleted.id);
    mailbox.put({ ...readNow, isRead: true, changeKey: `${readNow.changeKey}-read` });
    // a message of the 2025 folder vanished while its delta token was lost: only a full resync can tell
    mailbox.remove(mailbox.inFolder('f-2025')[0].id);
    mailbox.expired.add('f-2025');
    mailbox.put(graphMessage('f-2025', { subject: 'added while the token was lost' }));

    const completed = await syncAndWait(accountId, 'missed');
    expect(completed).toMatchObject({ messages: 53 });

    const rows = (
      await db.query<{ graph_id: string; folder_graph_id: string; is_read: boolean }>(
        `SELECT remote_id AS graph_id, folder_remote_id AS folder_graph_id, is_read FROM messages WHERE account_id = $1`,
        [accountId],
      )
    ).rows;
    const byId = new Map(rows.map((r) => [r.graph_id, r]));
    expect(byId.get(moved.id)?.folder_graph_id).toBe('f-archive');
    expect(byId.has(deleted.id)).toBe(false);
    expect(byId.get(readNow.id)?.is_read).toBe(true);
    for (const f of ['f-inbox', 'f-projects', 'f-2025', 'f-archive']) {
      expect(
        rows
          .filter((r) => r.folder_graph_id === f)
          .map((r) => r.graph_id)
          .sort(),
      ).toEqual(mailbox.inFolder(f).map((m) => m.id));
    }
    for (const f of await folderRows(accountId)) {
      expect(f.total_count).toBe(mailbox.inFolder(f.graph_id).length);
      expect(f.unread_count).toBe(mailbox.inFolder(f.graph_id).filter((m) => !m.isRead).length);
      expect(f.next_link).toBeNull();
    }
    const bodies = Number(
      (
        await db.query<{ n: string }>(`SELECT count(*) AS n FROM message_bodies WHERE account_id = $1`, [
          accountId,
        ])
      ).rows[0].n,
    );
    expect(bodies).toBe(53);

    // A resync of a synced mailbox is incremental: what it changed is logged, gapless, and announced.
    const log = (
      await db.query<{ seq: string; kind: string; message_graph_id: string; folder_graph_id: string }>(
        `SELECT seq, kind, message_remote_id AS message_graph_id, folder_remote_id AS folder_graph_id
         FROM mail_changes WHERE account_id = $1 ORDER BY seq`,
        [accountId],
      )
    ).rows.map((r) => ({
      seq: Number(r.seq),
      kind: r.kind,
      messageId: r.message_graph_id,
      folderId: r.folder_graph_id,
    }));
    expect(log.map((c) => c.seq)).toEqual(log.map((_c, i) => i + 1));
    expect(log).toEqual(
      expect.arrayContaining([
        // a move arrives as the source folder's removal and the destination's listing, in either order (folders
        // sync side by side): the row is updated in place or written again after its removal, 'upserted' either
        // way (a move is not new mail, see docs/realtime.md)
        expect.objectContaining({
          kind: 'upserted',
          messageId: moved.id,
          folderId: 'f-archive',
        }),
        expect.objectContaining({ kind: 'removed', messageId: deleted.id, folderId: 'f-inbox' }),
        expect.objectContaining({ kind: 'upserted', messageId: readNow.id, folderId: 'f-inbox' }),
      ]),
    );
    const changed = await waitFor(
      () => {
        const got = events().filter(
          (e): e is Extract<DomainEvent, { type: 'mail.changed' }> =>
            e.type === 'mail.changed' && e.accountId === accountId,
        );
        return Promise.resolve(got.flatMap((e) => e.changes).length >= log.length ? got : undefined);
      },
      { timeoutMs: 10000, intervalMs: 50, what: 'mail.changed events' },
    );
    expect(changed.flatMap((e) => e.changes).sort((a, b) => a.seq - b.seq)).toEqual(log);
    const inboxCounts = changed
      .flatMap((e) => e.folders)
      .filter((f) => f.folderId === 'f-inbox')
      .at(-1);
    expect(inboxCounts).toEqual({
      folderId: 'f-inbox',
      totalCount: mailbox.inFolder('f-inbox').length,
      unreadCount: mailbox.inFolder('f-inbox').filter((m) => !m.isRead).length,
    });
  });

  it('an empty mailbox completes too', async () => {
    const id = await newAccount();
    mailboxes.set(id, new FakeMailbox());
    expect(await syncAndWait(id)).toMatchObject({ folders: 0, messages: 0 });
  });

  it('a handler failure goes to the retry topic and the retry succeeds', async () => {
    const id = await newAccount();
    const flaky = new FakeMailbox();
    flaky.addFolder('f-inbox', 'Inbox', null);
    flaky.put(graphMessage('f-inbox'));
    flaky.treeFailures = 1;
    mailboxes.set(id, flaky);

    expect(await syncAndWait(id)).toMatchObject({ folders: 1, messages: 1 });
    const envelopes = syncRetries(id);
    expect(envelopes).toHaveLength(1);
    expect(envelopes[0]).toMatchObject({
      topic: topic(Topics.syncRequests),
      attempt: 1,
      error: 'transient failure',
    });
    expect(Date.parse(envelopes[0].notBefore) - Date.parse(envelopes[0].failedAt)).toBe(200);
  });

  it('a message that keeps failing is dead-lettered after the last attempt', async () => {
    const id = await newAccount();
    const down = new FakeMailbox();
    down.alwaysFail = true;
    mailboxes.set(id, down);
    await publisher.publish(topic(Topics.syncRequests), id, request(id));
    const dead = await waitFor(async () => Promise.resolve(deadLetters().find((d) => d.key === id)), {
      timeoutMs: 20000,
      intervalMs: 50,
      what: 'the dead letter',
    });
    expect(dead).toMatchObject({ topic: topic(Topics.syncRequests), attempt: 3, error: 'Graph is down' });
    expect(syncRetries(id).map((r) => r.attempt)).toEqual([1, 2]);
  });

  it('malformed messages go to dead-letter without blocking the partition', async () => {
    const id = await newAccount();
    const box = new FakeMailbox();
    box.addFolder('f-inbox', 'Inbox', null);
    mailboxes.set(id, box);
    // same key, so the same partition, in this order: not JSON, not the contract, then a good request
    await publisher.publish(topic(Topics.syncRequests), id, '{not json');
    await publisher.publish(topic(Topics.syncRequests), id, { ...request(id), v: 2 });
    expect(await syncAndWait(id)).toMatchObject({ folders: 1 });
    const dead = deadLetters().filter((d) => d.key === id);
    expect(dead.map((d) => d.error)).toEqual([
      'INVALID_MESSAGE: value is not JSON',
      expect.stringMatching(/^INVALID_MESSAGE: v: /) as unknown,
    ]);
    expect(dead[0]).toMatchObject({ value: '{not json', topic: topic(Topics.syncRequests) });
  });

  it('a revoked grant marks the account reauth_required, keeps its mail, and is not retried', async () => {
    mailbox.reauth = true;
    await publisher.publish(topic(Topics.syncRequests), accountId, request(accountId, 'manual'));
    const status = await waitFor(
      async () =>
        Promise.resolve(
          events().find(
            (e) => e.type === 'account.status' && e.accountId === accountId && e.status === 'reauth_required',
          ),
        ),
      { timeoutMs: 20000, intervalMs: 50, what: 'account.status reauth_required' },
    );
    expect(status).toMatchObject({ userId, reason: 'invalid_grant' });
    const row = (
      await db.query<{ status: string; n: string }>(
        `SELECT status, (SELECT count(*) FROM messages WHERE account_id = $1) AS n FROM mail_accounts WHERE id = $1`,
        [accountId],
      )
    ).rows[0];
    expect(row).toEqual({ status: 'reauth_required', n: '53' });
    expect(syncRetries(accountId)).toEqual([]);
  });
});
