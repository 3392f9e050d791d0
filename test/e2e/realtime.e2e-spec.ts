import { randomUUID } from 'node:crypto';
import { JwtService } from '@nestjs/jwt';
import { Partitioners, type Producer } from 'kafkajs';
import { io, type Socket } from 'socket.io-client';
import type { DataSource } from 'typeorm';
import {
  REALTIME_PATH,
  realtimeGroupName,
  topicName,
  Topics,
  type DomainEvent,
  type MailChanged,
  type SyncProgress,
} from '@email-core/contracts';
import { createDataSource, MailAccountsRepository, MailChangesRepository } from '@email-core/database';
import { createKafka } from '@email-core/kafka';
import {
  apiCall,
  currentTestRun,
  freePort,
  signUp,
  spawnApp,
  startProduct,
  waitFor,
  type RunningProduct,
} from '@email-core/testing';

/**
 * Issue 5, "Real-time", on the real stack: two producer processes (each with its own consumer group on the run's
 * events topic), the real Kafka, Postgres and Redis Cluster, and socket.io clients as a dashboard would use them.
 * Events are published to the events topic with kafkajs, exactly as a worker publishes them.
 */

interface User {
  id: string;
  token: string;
}

interface Received {
  name: string;
  payload: DomainEvent;
}

interface ConnectErrorLike extends Error {
  data?: { code?: string; message?: string };
}

/** A dashboard's socket: everything it received, in order. */
class Client {
  readonly received: Received[] = [];

  constructor(readonly socket: Socket) {
    socket.onAny((name: string, payload: DomainEvent) => this.received.push({ name, payload }));
  }

  async next(what: string, match: (r: Received) => boolean, timeoutMs = 15000): Promise<Received> {
    return waitFor(() => Promise.resolve(this.received.find(match)), { timeoutMs, intervalMs: 50, what });
  }
}

const sockets: Socket[] = [];

function open(
  url: string,
  opts: { token?: string; headers?: Record<string, string> } = {},
): { socket: Socket; ready: Promise<Client> } {
  const socket = io(url, {
    path: REALTIME_PATH,
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: 10000,
    ...(opts.token ? { auth: { token: opts.token } } : {}),
    ...(opts.headers ? { extraHeaders: opts.headers } : {}),
  });
  sockets.push(socket);
  const client = new Client(socket);
  const ready = new Promise<Client>((resolve, reject) => {
    socket.once('connect', () => resolve(client));
    socket.once('connect_error', reject);
  });
  return { socket, ready };
}

const connect = (url: string, opts: { token?: string; headers?: Record<string, string> } = {}) =>
  open(url, opts).ready;

/** The connect_error a refused handshake produces (fails if the socket connected instead). */
async function refusal(url: string, opts: { token?: string; headers?: Record<string, string> } = {}) {
  const { socket, ready } = open(url, opts);
  const err = await ready.then(
    () => {
      throw new Error('the socket connected');
    },
    (e: ConnectErrorLike) => e,
  );
  expect(socket.connected).toBe(false);
  return err;
}

describe('real-time push to dashboards, and catch-up', () => {
  let product: RunningProduct;
  let dataSource: DataSource;
  let accounts: MailAccountsRepository;
  let changes: MailChangesRepository;
  let kafkaProducer: Producer;
  let eventsTopic: string;
  let jwtSecret: string;
  let alice: User;
  let bob: User;
  /** Alice's and Bob's sockets on each producer instance */
  const aliceClients: Client[] = [];
  const bobClients: Client[] = [];
  let aliceAccount: string;
  let bobAccount: string;

  const me = async (token: string): Promise<User> => {
    const res = await apiCall<{ id: string }>(product.api, 'GET', '/api/v1/me', { token });
    expect(res.status).toBe(200);
    return { id: res.body.id, token };
  };

  const createAccount = async (userId: string): Promise<string> => {
    const { id } = await dataSource.transaction((m) =>
      accounts.upsertLinked(m, {
        userId,
        provider: 'outlook',
        externalUserId: randomUUID(),
        email: `${randomUUID().slice(0, 8)}@contoso.example`,
        displayName: 'Realtime Test',
      }),
    );
    return id;
  };

  const publish = async (key: string, value: string) => {
    await kafkaProducer.send({ topic: eventsTopic, acks: -1, messages: [{ key, value }] });
  };
  const publishEvent = (event: DomainEvent) => publish(event.accountId, JSON.stringify(event));

  const progress = (user: User, accountId: string, messagesSynced: number): SyncProgress => ({
    type: 'sync.progress',
    v: 1,
    accountId,
    userId: user.id,
    foldersTotal: 3,
    foldersDone: 1,
    messagesSynced,
    messagesTotal: 500_000,
    at: new Date().toISOString(),
  });

  const sign = (claims: Record<string, unknown>, opts: { secret?: string; expiresIn?: number } = {}) =>
    new JwtService({ secret: opts.secret ?? jwtSecret }).sign(claims, {
      algorithm: 'HS256',
      issuer: 'email-core',
      ...(opts.expiresIn !== undefined ? { expiresIn: opts.expiresIn } : {}),
    });

  beforeAll(async () => {
    product = await startProduct({ producers: 2 });
    jwtSecret = product.env.JWT_SECRET!;
    const run = currentTestRun();
    eventsTopic = topicName(run.topicPrefix, Topics.events);
    dataSource = createDataSource({ url: run.databaseUrl, applicationName: 'realtime-e2e' });
    await dataSource.initialize();
    accounts = new MailAccountsRepository(dataSource);
    changes = new MailChangesRepository(dataSource);
    kafkaProducer = createKafka({ brokers: run.kafkaBrokers, clientId: 'realtime-e2e' }).producer({
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await kafkaProducer.connect();

    alice = await me((await signUp(product.api)).token);
    bob = await me((await signUp(product.api)).token);
    aliceAccount = await createAccount(alice.id);
    bobAccount = await createAccount(bob.id);
    for (const api of product.apis) {
      aliceClients.push(await connect(api, { token: alice.token }));
      bobClients.push(await connect(api, { token: bob.token }));
    }

    // Each instance's consumer starts at the newest offset once it has joined its group: publish probes until
    // both instances deliver them, so nothing the tests publish is older than where the consumers started.
    let probe = 0;
    await waitFor(
      async () => {
        probe += 1;
        await publishEvent(progress(alice, aliceAccount, probe));
        await new Promise((r) => setTimeout(r, 300));
        return aliceClients.every((c) => c.received.length > 0) ? true : undefined;
      },
      { timeoutMs: 60000, intervalMs: 200, what: 'both producers to deliver events from the events topic' },
    );
  }, 150000);

  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await kafkaProducer?.disconnect();
    await dataSource?.destroy();
    await product?.stop();
  });

  describe('the handshake', () => {
    it('refuses a socket without a token, with UNAUTHENTICATED', async () => {
      const err = await refusal(product.apis[0]);
      expect(err.data).toMatchObject({ code: 'UNAUTHENTICATED' });
    });

    it('refuses a malformed token, one signed with another key, and a refresh-type token', async () => {
      const forged = sign({ sub: alice.id, email: 'a@x.test', typ: 'access' }, { secret: 'x'.repeat(64) });
      const refreshType = sign({ sub: alice.id, email: 'a@x.test', typ: 'refresh' }, { expiresIn: 600 });
      for (const token of ['not-a-jwt', forged, refreshType]) {
        const err = await refusal(product.apis[0], { token });
        expect(err.data).toMatchObject({ code: 'UNAUTHENTICATED' });
      }
    });

    it('refuses an expired token', async () => {
      const expired = sign({
        sub: alice.id,
        email: 'a@x.test',
        typ: 'access',
        exp: Math.floor(Date.now() / 1000) - 60,
      });
      const err = await refusal(product.apis[1], { token: expired });
      expect(err.data).toMatchObject({ code: 'UNAUTHENTICATED' });
      expect(err.message).toMatch(/invalid or expired/);
    });

    it('accepts the token as an Authorization: Bearer header too', async () => {
      const client = await connect(product.apis[0], { headers: { authorization: `Bearer ${alice.token}` } });
      expect(client.socket.connected).toBe(true);
      client.socket.disconnect();
    });

    it('refuses a browser page from an origin that is not allowed', async () => {
      const err = await refusal(product.apis[0], {
        token: alice.token,
        headers: { origin: 'https://evil.example' },
      });
      expect(err.data).toMatchObject({ code: 'ORIGIN_NOT_ALLOWED' });
    });

    it('closes the socket when its access token expires', async () => {
      const shortLived = sign({ sub: alice.id, email: 'a@x.test', typ: 'access' }, { expiresIn: 2 });
      const client = await connect(product.apis[0], { token: shortLived });
      const reason = await new Promise<string>((resolve) => client.socket.once('disconnect', resolve));
      expect(reason).toBe('io server disconnect');
    }, 20000);
  });

  describe('events', () => {
    it("a user's sockets on BOTH producers receive the user's event; another user's sockets never do", async () => {
      // as a worker does it: the changes commit (numbered), then the event announces them
      const recorded = await dataSource.transaction((m) =>
        changes.record(m, aliceAccount, [
          { kind: 'upserted', messageId: 'msg-1', folderId: 'inbox' },
          { kind: 'upserted', messageId: 'msg-2', folderId: 'inbox' },
          { kind: 'removed', messageId: 'msg-0', folderId: 'archive' },
        ]),
      );
      const changed: MailChanged = {
        type: 'mail.changed',
        v: 1,
        accountId: aliceAccount,
        userId: alice.id,
        seq: recorded[recorded.length - 1].seq,
        changes: recorded,
        folders: [{ folderId: 'inbox', totalCount: 2, unreadCount: 1 }],
        notifiedAt: new Date().toISOString(),
        at: new Date().toISOString(),
      };
      await publishEvent(changed);
      const bobsOwn = progress(bob, bobAccount, 7);
      await publishEvent(bobsOwn);

      for (const client of aliceClients) {
        const got = await client.next('mail.changed on an Alice socket', (r) => r.name === 'mail.changed');
        expect(got.payload).toEqual(changed);
      }
      for (const client of bobClients) {
        const got = await client.next('Bob’s own event', (r) => r.payload.userId === bob.id);
        expect(got).toEqual({ name: 'sync.progress', payload: bobsOwn });
      }
      // events on other partitions may trail: give them time to (wrongly) arrive
      await new Promise((r) => setTimeout(r, 1500));
      for (const client of bobClients) {
        expect(client.received.length).toBeGreaterThan(0);
        expect(client.received.every((r) => r.payload.userId === bob.id)).toBe(true);
      }
      for (const client of aliceClients) {
        expect(client.received.every((r) => r.payload.userId === alice.id)).toBe(true);
        expect(client.received.every((r) => r.name === r.payload.type)).toBe(true);
      }

      // a dashboard that missed the event catches up through the changes endpoint
      const caughtUp = await apiCall<{ items: Array<{ seq: number; kind: string; messageId: string }> }>(
        product.apis[1],
        'GET',
        `/api/v1/accounts/${aliceAccount}/changes?since=0`,
        { token: alice.token },
      );
      expect(caughtUp.status).toBe(200);
      expect(caughtUp.body.items.map(({ seq, kind, messageId }) => ({ seq, kind, messageId }))).toEqual(
        changed.changes.map(({ seq, kind, messageId }) => ({ seq, kind, messageId })),
      );
    });

    it('skips and counts invalid messages on the events topic, and keeps delivering', async () => {
      await publish(aliceAccount, 'not json at all');
      await publish(aliceAccount, JSON.stringify({ ...progress(alice, aliceAccount, 1), userId: 'nobody' }));
      await publish(aliceAccount, JSON.stringify({ type: 'mail.changed', v: 2 }));
      const after = progress(alice, aliceAccount, 424242);
      await publishEvent(after);
      for (const client of aliceClients) {
        const got = await client.next(
          'the valid event after invalid ones',
          (r) => r.name === 'sync.progress' && (r.payload as SyncProgress).messagesSynced === 424242,
        );
        expect(got.payload).toEqual(after);
      }
      for (const p of product.producers) {
        expect(p.child.exitCode).toBeNull();
        expect(p.output()).toMatch(/skipped an invalid event at .*email-core\.events/);
      }
    });
  });

  describe('GET /api/v1/accounts/:id/changes', () => {
    let account: string;
    let total: number;

    type Page = {
      items: Array<{ seq: number; kind: string; messageId: string; folderId: string; at: string }>;
      latestSeq: number;
      hasMore: boolean;
    };
    const get = (path: string, token: string | null = alice.token) =>
      apiCall<Page & { error?: string }>(product.api, 'GET', path, { token: token ?? undefined });

    beforeAll(async () => {
      account = await createAccount(alice.id);
      // two committed batches, as two worker transactions would write them
      await dataSource.transaction((m) =>
        changes.record(
          m,
          account,
          Array.from({ length: 5 }, (_, i) => ({
            kind: 'upserted' as const,
            messageId: `m-${i + 1}`,
            folderId: 'inbox',
          })),
        ),
      );
      await dataSource.transaction((m) =>
        changes.record(m, account, [
          { kind: 'removed', messageId: 'm-2', folderId: 'inbox' },
          { kind: 'upserted', messageId: 'm-6', folderId: 'archive' },
        ]),
      );
      total = 7;
    });

    it('pages through the log with since and limit', async () => {
      const seen: Page['items'] = [];
      let since = 0;
      let pages = 0;
      for (;;) {
        const res = await get(`/api/v1/accounts/${account}/changes?since=${since}&limit=3`);
        expect(res.status).toBe(200);
        expect(res.body.latestSeq).toBe(total);
        expect(res.body.items.length).toBeLessThanOrEqual(3);
        seen.push(...res.body.items);
        pages += 1;
        if (!res.body.hasMore) break;
        since = res.body.items[res.body.items.length - 1].seq;
      }
      expect(pages).toBe(3);
      expect(seen.map((c) => c.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(seen[5]).toMatchObject({ seq: 6, kind: 'removed', messageId: 'm-2', folderId: 'inbox' });
      expect(seen[6]).toMatchObject({ seq: 7, kind: 'upserted', messageId: 'm-6', folderId: 'archive' });
      for (const c of seen) expect(Number.isNaN(Date.parse(c.at))).toBe(false);

      const defaults = await get(`/api/v1/accounts/${account}/changes?since=4`);
      expect(defaults.body).toMatchObject({ latestSeq: 7, hasMore: false });
      expect(defaults.body.items.map((c) => c.seq)).toEqual([5, 6, 7]);

      const upToDate = await get(`/api/v1/accounts/${account}/changes?since=7`);
      expect(upToDate.status).toBe(200);
      expect(upToDate.body).toEqual({ items: [], latestSeq: 7, hasMore: false });
    });

    it("answers another user's account, an unknown id and a malformed id like the other account routes: 404", async () => {
      const asBob = await get(`/api/v1/accounts/${account}/changes?since=0`, bob.token);
      expect(asBob.status).toBe(404);
      expect(asBob.body).toEqual({ error: 'ACCOUNT_NOT_FOUND', message: 'no such account' });
      const resyncAsBob = await apiCall(product.api, 'POST', `/api/v1/accounts/${account}/resync`, {
        token: bob.token,
      });
      expect(resyncAsBob.status).toBe(404);
      expect(resyncAsBob.body).toEqual(asBob.body);
      for (const id of [randomUUID(), 'not-a-uuid']) {
        const res = await get(`/api/v1/accounts/${id}/changes?since=0`);
        expect(res.status).toBe(404);
        expect(res.body).toEqual(asBob.body);
      }
    });

    it('refuses a missing, negative or fractional since, and a bad limit, with 400 VALIDATION_FAILED', async () => {
      for (const query of [
        '',
        '?since=',
        '?since=-1',
        '?since=1.5',
        '?since=abc',
        '?since=0&limit=0',
        '?since=0&limit=1001',
      ]) {
        const res = await get(`/api/v1/accounts/${account}/changes${query}`);
        expect({ query, status: res.status, error: res.body.error }).toEqual({
          query,
          status: 400,
          error: 'VALIDATION_FAILED',
        });
      }
      const noToken = await get(`/api/v1/accounts/${account}/changes?since=0`, null);
      expect(noToken.status).toBe(401);
    });

    it('answers 410 CHANGES_EXPIRED once the log no longer reaches back to since (the client reloads)', async () => {
      const ahead = await get(`/api/v1/accounts/${account}/changes?since=99`);
      expect(ahead.status).toBe(410);
      expect(ahead.body.error).toBe('CHANGES_EXPIRED');

      // the retention job prunes everything older than its window (here: everything so far)
      await changes.prune(new Date(Date.now() + 60_000));
      const expired = await get(`/api/v1/accounts/${account}/changes?since=3`);
      expect(expired.status).toBe(410);
      expect(expired.body).toMatchObject({ error: 'CHANGES_EXPIRED' });
      // a client that already has everything is still up to date
      const current = await get(`/api/v1/accounts/${account}/changes?since=7`);
      expect(current.status).toBe(200);
      expect(current.body).toEqual({ items: [], latestSeq: 7, hasMore: false });
      // new changes after the prune are served from the new start
      await dataSource.transaction((m) =>
        changes.record(m, account, [{ kind: 'upserted', messageId: 'm-7', folderId: 'inbox' }]),
      );
      const resumed = await get(`/api/v1/accounts/${account}/changes?since=7`);
      expect(resumed.body.items.map((c) => c.seq)).toEqual([8]);
    });

    it('is documented in the OpenAPI document', async () => {
      const doc = await apiCall<{
        paths: Record<
          string,
          { get?: { parameters: Array<{ name: string }>; responses: Record<string, unknown> } }
        >;
      }>(product.api, 'GET', '/api/docs-json');
      const op = doc.body.paths['/api/v1/accounts/{id}/changes']?.get;
      expect(op).toBeDefined();
      expect(op!.parameters.map((p) => p.name).sort()).toEqual(['id', 'limit', 'since']);
      expect(Object.keys(op!.responses).sort()).toEqual(['200', '400', '401', '404', '410']);
    });
  });

  it('a restarted producer deletes its consumer group on the way out, and feeds its new sockets', async () => {
    const run = currentTestRun();
    const admin = createKafka({ brokers: run.kafkaBrokers, clientId: 'realtime-e2e-admin' }).admin();
    await admin.connect();
    try {
      // this product's groups only: other files' products (beside this one when files run side by side) share the
      // run's topic prefix
      const groupOf = (instance: string) => `${run.topicPrefix}${realtimeGroupName(instance)}`;
      const groups = async () => new Set((await admin.listGroups()).groups.map((g) => g.groupId));
      const [first, old] = product.realtimeInstanceIds.map(groupOf);
      const before = await groups();
      expect(before.has(first)).toBe(true);
      expect(before.has(old)).toBe(true);

      await product.restartProducer(1);
      const renewed = groupOf(product.realtimeInstanceIds[1]);
      expect(renewed).not.toBe(old);
      const client = await connect(product.apis[1], { token: alice.token });
      let n = 0;
      await waitFor(
        async () => {
          n += 1;
          await publishEvent(progress(alice, aliceAccount, 900000 + n));
          await new Promise((r) => setTimeout(r, 300));
          return client.received.some((r) => r.payload.type === 'sync.progress') ? true : undefined;
        },
        { timeoutMs: 60000, intervalMs: 200, what: 'the restarted producer to deliver events' },
      );
      const after = await groups();
      expect(after.has(first)).toBe(true);
      expect(after.has(renewed)).toBe(true);
      expect(after.has(old)).toBe(false);
    } finally {
      await admin.disconnect();
    }
  }, 120000);

  it('a producer boots and accepts sockets while Kafka is unreachable', async () => {
    const port = await freePort();
    const deadKafka = await freePort();
    const app = spawnApp('producer', {
      ...product.env,
      KAFKA_BROKERS: `127.0.0.1:${deadKafka}`,
      PRODUCER_PORT: String(port),
      REALTIME_INSTANCE_ID: 'no-kafka',
    });
    try {
      const base = `http://127.0.0.1:${port}`;
      await waitFor(
        async () => {
          if (app.child.exitCode !== null) throw new Error(`exited: ${app.output()}`);
          const r = await fetch(`${base}/health/live`, { signal: AbortSignal.timeout(2000) });
          return r.status === 200 ? true : undefined;
        },
        { timeoutMs: 60000, intervalMs: 300, what: 'the producer to be live without Kafka' },
      );
      const client = await connect(base, { token: alice.token });
      expect(client.socket.connected).toBe(true);
      client.socket.disconnect();
    } finally {
      await app.stop();
    }
  }, 90000);
});
