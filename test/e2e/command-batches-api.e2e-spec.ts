import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { io, type Socket } from 'socket.io-client';
import { MAX_BATCH_MESSAGES, REALTIME_PATH, type CommandBatchStatus } from '@email-core/contracts';
import {
  apiCall,
  linkOutlook,
  signUp,
  startProduct,
  waitFor,
  waitForAccountStatus,
  type RunningProduct,
} from '@email-core/testing';

/**
 * Issue 23, the batch API of multi-select, on the real producer and consumer, Postgres, Kafka, Redis Cluster and the
 * emulator: every refusal answers its 4xx code with nothing stored or queued; a selection is resolved by the server
 * into commands of at most 500 ids, stored and queued together; the combined status (GET and the socket's
 * `command.batch.status`) reaches `done` when every command is done, and the emulator and the mirror show the
 * action on exactly the selected messages; the per-user limit answers 429.
 */

interface Batch {
  id: string;
  accountId: string;
  action: string;
  status: string;
  messages: number;
  commands: number;
  counts: { queued: number; sent: number; done: number; failed: number };
  reasonCode: string | null;
  error?: string;
  message?: string;
}

interface Exported {
  folders: Array<{ id: string; wellKnownName: string | null }>;
  messages: Array<{
    immutableId: string;
    parentFolderId: string;
    isRead: boolean;
    flag: { flagStatus: string };
  }>;
}

const PASSWORD = 'mailbox-password';
const MAILBOX_A = 'batches-a@contoso.example';
const MAILBOX_B = 'batches-b@fabrikam.example';
/** in A's inbox; every other one unread */
const MESSAGES = 1050;
const BATCH_LIMIT = 30;

describe('Command batches API (multi-select)', () => {
  let product: RunningProduct;
  let db: Client;
  let socket: Socket;
  const events: CommandBatchStatus[] = [];
  const a = { token: '', accountId: '', inbox: '' };
  const b = { token: '', accountId: '' };

  const post = (token: string, body: unknown) =>
    apiCall<Batch>(product.api, 'POST', '/api/v1/commands/batches', { token, body });
  const get = (token: string, id: string) =>
    apiCall<Batch>(product.api, 'GET', `/api/v1/commands/batches/${encodeURIComponent(id)}`, { token });
  const counts = async () =>
    (
      await db.query<{ batches: number; commands: number; outbox: number }>(
        `SELECT (SELECT count(*)::int FROM mail_command_batches) AS batches,
                (SELECT count(*)::int FROM mail_commands) AS commands,
                (SELECT count(*)::int FROM outbox WHERE message_type = 'mail.command') AS outbox`,
      )
    ).rows[0];
  const inboxIds = async (accountId: string, where = 'true') =>
    (
      await db.query<{ remote_id: string }>(
        `SELECT m.remote_id FROM messages m JOIN mail_folders f
            ON f.account_id = m.account_id AND f.remote_id = m.folder_remote_id AND f.well_known_name = 'inbox'
          WHERE m.account_id = $1 AND ${where} ORDER BY m.received_at DESC`,
        [accountId],
      )
    ).rows.map((r) => r.remote_id);
  const exported = () =>
    product.emulator.admin<Exported>('GET', `/_emulator/mailboxes/${MAILBOX_A}/export?bodies=false`);
  const waitDone = (token: string, id: string) =>
    waitFor(
      async () => {
        const res = await get(token, id);
        return res.body.status === 'done' || res.body.status === 'failed' ? res.body : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 500, what: `batch ${id} to finish` },
    );

  beforeAll(async () => {
    product = await startProduct({
      appEnv: { LOG_LEVEL: 'warn', COMMAND_BATCHES_RATE_LIMIT_PER_MINUTE: String(BATCH_LIMIT) },
    });
    await product.emulator.admin('POST', '/_emulator/mailboxes', {
      address: MAILBOX_A,
      displayName: 'Ada Batches',
      password: PASSWORD,
      seed: { messages: 0, folders: 0 },
    });
    await product.emulator.admin('POST', '/_emulator/mailboxes', {
      address: MAILBOX_B,
      displayName: 'Bo Other',
      password: PASSWORD,
      seed: { messages: 20, folders: 0, seed: 3 },
    });
    const now = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < MESSAGES) {
          const i = next++;
          await product.emulator.admin('POST', `/_emulator/mailboxes/${MAILBOX_A}/messages`, {
            subject: `Build ${i + 1} finished`,
            from: { emailAddress: { name: 'CI', address: 'ci@contoso.example' } },
            body: { contentType: 'text', content: `Build ${i + 1}.` },
            isRead: i % 2 === 0,
            receivedDateTime: new Date(now - i * 60_000).toISOString(),
          });
        }
      }),
    );
    for (const [user, address] of [
      [a, MAILBOX_A],
      [b, MAILBOX_B],
    ] as const) {
      user.token = (await signUp(product.api)).token;
      const linked = await linkOutlook(product, user.token, address, PASSWORD);
      user.accountId = /linked=([0-9a-f-]{36})/.exec(linked)?.[1] ?? '';
      await waitForAccountStatus(product.api, user.token, 'synced', { accountId: user.accountId });
    }
    db = new Client({ connectionString: product.databaseUrl });
    await db.connect();
    a.inbox = (
      await db.query<{ remote_id: string }>(
        `SELECT remote_id FROM mail_folders WHERE account_id = $1 AND well_known_name = 'inbox'`,
        [a.accountId],
      )
    ).rows[0].remote_id;
    socket = io(product.api, {
      path: REALTIME_PATH,
      auth: { token: a.token },
      transports: ['websocket'],
    });
    socket.on('command.batch.status', (e: CommandBatchStatus) => events.push(e));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
  }, 300_000);

  afterAll(async () => {
    socket?.close();
    await db?.end();
    await product?.stop();
  });

  it('has the mailboxes it needs (1,050 in A’s inbox, 525 unread)', async () => {
    expect(await inboxIds(a.accountId)).toHaveLength(MESSAGES);
    expect(await inboxIds(a.accountId, 'NOT m.is_read')).toHaveLength(MESSAGES / 2);
  });

  it('refuses bad input with its code, storing and queuing nothing', async () => {
    const before = await counts();
    const bMessage = (await inboxIds(b.accountId))[0];
    const cases: Array<[number, string, unknown, string?]> = [
      [400, 'VALIDATION_FAILED', { action: 'delete', messageIds: ['x'], selection: {} }],
      [400, 'VALIDATION_FAILED', { action: 'delete' }],
      [400, 'VALIDATION_FAILED', { action: 'send', selection: {} }],
      [400, 'VALIDATION_FAILED', { action: 'delete', selection: { folderId: a.inbox, bogus: true } }],
      [400, 'VALIDATION_FAILED', { action: 'markRead', isRead: 'yes', selection: {} }],
      [400, 'VALIDATION_FAILED', { action: 'delete', selection: { after: 'yesterday' } }],
      [
        400,
        'VALIDATION_FAILED',
        { action: 'delete', messageIds: Array.from({ length: MAX_BATCH_MESSAGES + 1 }, (_, i) => `m${i}`) },
      ],
      [404, 'ACCOUNT_NOT_FOUND', { action: 'delete', selection: {} }, b.accountId],
      [404, 'FOLDER_NOT_FOUND', { action: 'delete', selection: { folderId: 'no-such-folder' } }],
      [404, 'MESSAGE_NOT_FOUND', { action: 'delete', messageIds: [bMessage] }],
      [
        422,
        'UNKNOWN_FOLDER',
        { action: 'move', destinationFolderId: 'nowhere', selection: { folderId: a.inbox } },
      ],
      [422, 'NOTHING_SELECTED', { action: 'delete', selection: { folderId: a.inbox, q: 'zzqxnotaword' } }],
    ];
    for (const [status, code, body, accountId] of cases) {
      const res = await post(a.token, { accountId: accountId ?? a.accountId, ...(body as object) });
      expect({ status: res.status, error: res.body.error }).toEqual({ status, error: code });
    }
    const anonymous = await apiCall<Batch>(product.api, 'POST', '/api/v1/commands/batches', {
      body: { accountId: a.accountId, action: 'delete', selection: {} },
    });
    expect([anonymous.status, anonymous.body.error]).toEqual([401, 'UNAUTHENTICATED']);
    // more than the route's 4 MiB of JSON
    const huge = await post(a.token, {
      accountId: a.accountId,
      action: 'delete',
      messageIds: Array.from({ length: 9000 }, (_, i) => `${'x'.repeat(500)}${i}`),
    });
    expect([huge.status, huge.body.error]).toEqual([413, 'PAYLOAD_TOO_LARGE']);
    expect(await counts()).toEqual(before);
  });

  let selected: Batch;
  const id = randomUUID();
  let excluded: string[];

  it('resolves a selection (folder + unread, minus excluded ids) into commands of at most 500, stored and queued together', async () => {
    const before = await counts();
    const unread = await inboxIds(a.accountId, 'NOT m.is_read');
    excluded = unread.slice(10, 13);
    const body = {
      id,
      accountId: a.accountId,
      action: 'markRead',
      isRead: true,
      selection: { folderId: a.inbox, unread: true, excludeIds: excluded },
    };
    const res = await post(a.token, body);
    expect(res.status).toBe(202);
    selected = res.body;
    expect(selected).toMatchObject({ id, action: 'markRead', messages: unread.length - 3, commands: 2 });
    expect(selected.counts.queued + selected.counts.sent + selected.counts.done).toBe(2);

    const stored = await db.query<{ id: string; ids: string[]; status: string }>(
      `SELECT id, ARRAY(SELECT jsonb_array_elements_text(request->'messageIds')) AS ids, status
         FROM mail_commands WHERE batch_id = $1`,
      [id],
    );
    expect(stored.rows.map((r) => r.ids.length).sort((x, y) => y - x)).toEqual([500, unread.length - 503]);
    const union = stored.rows.flatMap((r) => r.ids);
    expect(new Set(union).size).toBe(union.length);
    expect(new Set(union)).toEqual(new Set(unread.filter((m) => !excluded.includes(m))));
    const outbox = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM outbox WHERE payload->>'commandId' = ANY($1::text[])`,
      [stored.rows.map((r) => r.id)],
    );
    expect(outbox.rows[0].n).toBe(2);
    expect(await counts()).toEqual({
      batches: before.batches + 1,
      commands: before.commands + 2,
      outbox: before.outbox + 2,
    });
  });

  it('answers one combined status, done when both commands are; the socket carries it; the provider and the mirror follow', async () => {
    const done = await waitDone(a.token, id);
    expect(done).toMatchObject({
      status: 'done',
      counts: { queued: 0, sent: 0, done: 2, failed: 0 },
      messages: 522,
    });
    await waitFor(
      () => Promise.resolve(events.some((e) => e.batchId === id && e.status === 'done') || undefined),
      {
        timeoutMs: 10_000,
        what: 'the socket to carry the batch done',
      },
    );
    const mine = events.filter((e) => e.batchId === id);
    expect(mine.every((e) => e.accountId === a.accountId && e.commands === 2 && e.messages === 522)).toBe(
      true,
    );
    // after every status of each command: at least one "under way" before done
    expect(mine.map((e) => e.status)).toContain('sent');
    const box = await exported();
    const inbox = box.folders.find((f) => f.wellKnownName === 'inbox')!.id;
    const stillUnread = box.messages
      .filter((m) => m.parentFolderId === inbox && !m.isRead)
      .map((m) => m.immutableId);
    expect(new Set(stillUnread)).toEqual(new Set(excluded));
    await waitFor(
      async () => ((await inboxIds(a.accountId, 'NOT m.is_read')).length === 3 ? true : undefined),
      { timeoutMs: 30_000, what: 'the mirror to keep only the excluded unread' },
    );
  }, 180_000);

  it('the same id again: 200 with the current status, nothing queued; another request or user: 409', async () => {
    const before = await counts();
    const again = await post(a.token, {
      id,
      accountId: a.accountId,
      action: 'markRead',
      isRead: true,
      selection: { folderId: a.inbox, unread: true, excludeIds: excluded },
    });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ id, status: 'done', messages: 522 });
    const other = await post(a.token, { id, accountId: a.accountId, action: 'delete', selection: {} });
    expect([other.status, other.body.error]).toEqual([409, 'BATCH_ID_CONFLICT']);
    const stranger = await post(b.token, { id, accountId: b.accountId, action: 'delete', selection: {} });
    expect([stranger.status, stranger.body.error]).toEqual([409, 'BATCH_ID_CONFLICT']);
    expect(await counts()).toEqual(before);
  });

  it("another user's batch, an unknown id and a malformed one: 404 BATCH_NOT_FOUND", async () => {
    for (const [token, batchId] of [
      [b.token, id],
      [a.token, randomUUID()],
      [a.token, 'not-a-uuid'],
    ]) {
      const res = await get(token, batchId);
      expect([res.status, res.body.error]).toEqual([404, 'BATCH_NOT_FOUND']);
    }
  });

  it('takes explicit ids beyond 500 (600: two commands), and flags exactly those', async () => {
    const ids = (await inboxIds(a.accountId)).slice(0, 600);
    const res = await post(a.token, {
      accountId: a.accountId,
      action: 'flag',
      flagStatus: 'flagged',
      messageIds: ids,
    });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ messages: 600, commands: 2 });
    expect(await waitDone(a.token, res.body.id)).toMatchObject({ status: 'done' });
    const flagged = (await exported()).messages.filter((m) => m.flag.flagStatus === 'flagged');
    expect(new Set(flagged.map((m) => m.immutableId))).toEqual(new Set(ids));
  }, 180_000);

  it(`limits batches per user (${BATCH_LIMIT} a minute): then 429 RATE_LIMITED with Retry-After`, async () => {
    const user = (await signUp(product.api)).token;
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof post>> | undefined;
    for (let i = 0; i <= BATCH_LIMIT && !limited; i++) {
      const res = await post(user, { accountId: a.accountId, action: 'delete', selection: {} });
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    // the first BATCH_LIMIT were read (someone else's account: 404), the next one refused before its body
    expect(statuses.slice(0, BATCH_LIMIT).every((s) => s === 404)).toBe(true);
    expect(limited?.status).toBe(429);
    expect(limited?.body.error).toBe('RATE_LIMITED');
    expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
