import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { Consumer, Kafka } from 'kafkajs';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { projectTopics, topicName, Topics } from '@email-core/contracts';
import {
  createDataSource,
  GraphSubscriptionsRepository,
  MailAccountsRepository,
  UsersRepository,
} from '@email-core/database';
import { createKafka, ensureTopics, subscribeWhenReady } from '@email-core/kafka';
import {
  currentTestRun,
  freePort,
  spawnApp,
  testRunEnv,
  waitFor,
  type SpawnedApp,
} from '@email-core/testing';
import { hashClientState } from '../../apps/producer/src/graph-webhook/client-state';

interface Received {
  topic: string;
  partition: number;
  offset: string;
  key: string;
  value: Record<string, unknown>;
}

interface Linked {
  accountId: string;
  subscriptionId: string;
  clientState: string;
}

/** the default: a POST of 10,000 made-up ids (680 kB) fits, so only the item cap stops it */
const MAX_BODY = 1024 * 1024;
const MAX_ITEMS = 1000;
const UNKNOWN_IDS_PER_MINUTE = 10_000;
const run = currentTestRun();
/**
 * This suite's own topic prefix, database and key prefix (all under the run's, so the run's teardown removes
 * them): nothing else publishes to these topics, so "nothing published" means nothing, and this producer's
 * outbox relay never picks up (and misroutes) outbox rows that other suites' producers wrote.
 */
const prefix = `${run.topicPrefix}webhook.`;
const databaseName = `${run.databaseName}_webhook`;
const databaseUrl = (() => {
  const u = new URL(run.databaseUrl);
  u.pathname = `/${databaseName}`;
  return u.toString();
})();
const ownEnv = {
  DATABASE_URL: databaseUrl,
  KAFKA_TOPIC_PREFIX: prefix,
  REDIS_KEY_PREFIX: `${run.redisKeyPrefix}webhook:`,
};

async function adminQuery(sql: string): Promise<void> {
  const client = new Client({ connectionString: run.adminDatabaseUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
const pokesTopic = topicName(prefix, Topics.mailboxPokes);
const subscriptionsTopic = topicName(prefix, Topics.subscriptions);

const secrets = {
  MS_CLIENT_ID: 'email-core-test',
  MS_CLIENT_SECRET: randomBytes(16).toString('hex'),
  JWT_SECRET: randomBytes(32).toString('hex'),
  TOKEN_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
};

/** a change notification item exactly as Graph (and the emulator) sends it */
const changeItem = (sub: Linked, messageId: string, overrides: Record<string, unknown> = {}) => ({
  id: randomUUID(),
  subscriptionId: sub.subscriptionId,
  subscriptionExpirationDateTime: new Date(Date.now() + 3600e3).toISOString(),
  changeType: 'created',
  resource: `Users/u-1/Messages/${messageId}`,
  tenantId: '9188040d-6c67-4c5b-b112-36a304b66dad',
  clientState: sub.clientState,
  resourceData: {
    '@odata.type': '#Microsoft.Graph.Message',
    '@odata.id': `Users/u-1/Messages/${messageId}`,
    '@odata.etag': 'W/"CQAAABYAAAD"',
    id: messageId,
  },
  ...overrides,
});

const lifecycleItem = (sub: Linked, lifecycleEvent: string, overrides: Record<string, unknown> = {}) => ({
  subscriptionId: sub.subscriptionId,
  subscriptionExpirationDateTime: new Date(Date.now() + 3600e3).toISOString(),
  tenantId: '9188040d-6c67-4c5b-b112-36a304b66dad',
  clientState: sub.clientState,
  lifecycleEvent,
  ...overrides,
});

/**
 * Issue 5, the Graph webhook on the real stack: the real producer process, its subscriptions in the run's
 * Postgres, and what it publishes read back from Kafka. Every rejected request is shown to publish nothing.
 */
describe('the Graph notification webhook', () => {
  let producer: SpawnedApp;
  let api: string;
  let kafka: Kafka;
  let consumer: Consumer;
  let dataSource: DataSource;
  let a: Linked;
  let b: Linked;
  const received: Received[] = [];
  const responses: string[] = [];

  async function post(
    path: string,
    body: string | Buffer,
    opts: { query?: string; contentType?: string; base?: string } = {},
  ): Promise<{ status: number; headers: Headers; bytes: Buffer; json: () => Record<string, unknown> }> {
    const res = await fetch(`${opts.base ?? api}/api/v1/graph/${path}${opts.query ? `?${opts.query}` : ''}`, {
      method: 'POST',
      headers: { 'content-type': opts.contentType ?? 'application/json' },
      body,
      signal: AbortSignal.timeout(15000),
    });
    const bytes = Buffer.from(await res.arrayBuffer());
    responses.push(bytes.toString('utf8'));
    return {
      status: res.status,
      headers: res.headers,
      bytes,
      json: () => JSON.parse(bytes.toString('utf8')) as Record<string, unknown>,
    };
  }
  const notify = (items: unknown[], path = 'notifications') => post(path, JSON.stringify({ value: items }));

  /** every message of both topics up to their current end is in `received` */
  async function caughtUp(): Promise<void> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const ends = await Promise.all(
        [pokesTopic, subscriptionsTopic].map(async (topic) => ({
          topic,
          offsets: await admin.fetchTopicOffsets(topic),
        })),
      );
      await waitFor(
        () =>
          Promise.resolve(
            ends.every(({ topic, offsets }) =>
              offsets.every(
                (p) =>
                  p.high === '0' ||
                  received.some(
                    (r) =>
                      r.topic === topic &&
                      r.partition === p.partition &&
                      BigInt(r.offset) + 1n >= BigInt(p.high),
                  ),
              ),
            )
              ? true
              : undefined,
          ),
        { timeoutMs: 20000, intervalMs: 50, what: 'the test consumer to reach the end of both topics' },
      );
    } finally {
      await admin.disconnect();
    }
  }

  async function link(n: number, userId: string): Promise<Linked> {
    const accounts = new MailAccountsRepository(dataSource);
    const { id: accountId } = await accounts.upsertLinked(dataSource.manager, {
      userId,
      provider: 'outlook',
      externalUserId: `external-${n}-${randomUUID()}`,
      email: `mailbox-${n}@contoso.example`,
      displayName: `Mailbox ${n}`,
    });
    const linked = {
      accountId,
      subscriptionId: randomUUID(),
      clientState: randomBytes(32).toString('base64url'),
    };
    const saved = await new GraphSubscriptionsRepository(dataSource).save({
      accountId,
      subscriptionId: linked.subscriptionId,
      clientStateHash: hashClientState(linked.clientState),
      resource: 'me/messages',
      expiresAt: new Date(Date.now() + 3 * 24 * 3600e3),
    });
    expect(saved).toBe(true);
    return linked;
  }

  beforeAll(async () => {
    await adminQuery(`CREATE DATABASE "${databaseName}"`);
    kafka = createKafka({ brokers: run.kafkaBrokers, clientId: 'email-core-test-webhook' });
    const admin = kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(admin, projectTopics({ prefix, partitions: 3, replicationFactor: 1 }));
    } finally {
      await admin.disconnect();
    }
    consumer = kafka.consumer({ groupId: `${prefix}e2e-${randomUUID()}` });
    await consumer.connect();
    await subscribeWhenReady(consumer, { topics: [pokesTopic, subscriptionsTopic], fromBeginning: true });
    await consumer.run({
      eachMessage: ({ topic, partition, message }) => {
        received.push({
          topic,
          partition,
          offset: message.offset,
          key: message.key?.toString() ?? '',
          value: JSON.parse(message.value?.toString() ?? 'null') as Record<string, unknown>,
        });
        return Promise.resolve();
      },
    });

    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    producer = spawnApp('producer', {
      ...testRunEnv(run),
      ...secrets,
      ...ownEnv,
      PRODUCER_PORT: String(port),
      PUBLIC_BASE_URL: api,
      WEBHOOK_MAX_BODY_BYTES: String(MAX_BODY),
      WEBHOOK_MAX_ITEMS: String(MAX_ITEMS),
      WEBHOOK_UNKNOWN_IDS_PER_MINUTE: String(UNKNOWN_IDS_PER_MINUTE),
      LOG_LEVEL: 'log',
    });
    await waitFor(
      async () => {
        if (producer.child.exitCode !== null) throw new Error(`producer exited: ${producer.output()}`);
        const r = await fetch(`${api}/health`, { signal: AbortSignal.timeout(3000) }).catch(() => undefined);
        return r?.status === 200 ? true : undefined;
      },
      { timeoutMs: 60000, intervalMs: 300, what: 'the producer to be healthy' },
    );

    dataSource = createDataSource({ url: databaseUrl, poolSize: 2 });
    await dataSource.initialize();
    const userId = randomUUID();
    const created = await new UsersRepository(dataSource).createUser({
      id: userId,
      email: `webhook-${userId}@example.test`,
      passwordHash: 'not-a-real-hash',
    });
    expect(created.ok).toBe(true);
    a = await link(1, userId);
    b = await link(2, userId);
  }, 120000);

  afterAll(async () => {
    await consumer?.disconnect();
    await producer?.stop();
    await dataSource?.destroy();
    await adminQuery(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`);
  });

  it('answers the validation handshake with the token as text/plain, byte for byte, on both URLs', async () => {
    const token =
      'Validation: Testing client application reachability for subscription Request-Id: ' +
      '<script>alert("x")</script><b>ü & %41 +</b>';
    for (const path of ['notifications', 'lifecycle']) {
      // as Graph sends it: form encoding (spaces as '+'), Content-Type text/plain, no body
      const res = await post(path, '', {
        query: new URLSearchParams({ validationToken: token }).toString(),
        contentType: 'text/plain; charset=utf-8',
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.bytes.equals(Buffer.from(token, 'utf8'))).toBe(true);
    }
    // percent-encoded spaces decode the same way
    const plain = await post('notifications', '', { query: `validationToken=${encodeURIComponent(token)}` });
    expect(plain.bytes.toString('utf8')).toBe(token);

    const long = await post('notifications', '', { query: `validationToken=${'x'.repeat(1025)}` });
    expect(long.status).toBe(400);
    expect(long.json()).toEqual({
      error: 'INVALID_VALIDATION_TOKEN',
      message: 'validationToken must be given once and have at most 1024 characters',
    });
  });

  it('publishes accepted changes grouped per account (acks all) before answering 202', async () => {
    const before = Date.now();
    const res = await notify([
      changeItem(a, 'msg-a1'),
      changeItem(b, 'msg-b1'),
      changeItem(a, 'msg-a2', { changeType: 'updated' }),
    ]);
    expect(res.status).toBe(202);
    expect(res.bytes.length).toBe(0);
    await caughtUp();
    const mine = received.filter((r) => r.topic === pokesTopic);
    expect(mine).toHaveLength(2);
    const at = (m: Received) => Date.parse(String(m.value.receivedAt));
    for (const m of mine) expect(at(m)).toBeGreaterThanOrEqual(before - 1000);
    const receivedAt = mine[0].value.receivedAt;
    expect(mine.map((m) => [m.key, m.value]).sort()).toEqual(
      [
        [
          a.accountId,
          {
            type: 'mailbox.poke',
            v: 1,
            accountId: a.accountId,
            source: 'webhook',
            changes: [
              { kind: 'created', messageId: 'msg-a1' },
              { kind: 'updated', messageId: 'msg-a2' },
            ],
            receivedAt,
          },
        ],
        [
          b.accountId,
          {
            type: 'mailbox.poke',
            v: 1,
            accountId: b.accountId,
            source: 'webhook',
            changes: [{ kind: 'created', messageId: 'msg-b1' }],
            receivedAt,
          },
        ],
      ].sort(),
    );
  });

  it('answers alike whether its fast lane or Express serves a POST (a query string takes the Express path)', async () => {
    // issue 20: a POST without query string or Origin skips Express's router and Nest's pipeline
    // each answer has its own request id (X-Request-Id, a UUID on both paths)
    const alike = (r: { headers: Headers }) => ({
      ...Object.fromEntries(
        [...r.headers].filter(([k]) => !['date', 'keep-alive', 'connection', 'x-request-id'].includes(k)),
      ),
      requestId: /^[0-9a-f-]{36}$/.test(r.headers.get('x-request-id') ?? ''),
    });
    const body = JSON.stringify({ value: [changeItem(a, 'msg-lane')] });
    const cases: Array<[string | Buffer, number]> = [
      [body, 202],
      ['{', 400],
      [JSON.stringify({ value: 'x' }), 400],
      [Buffer.alloc(MAX_BODY + 1, 0x20), 413],
    ];
    for (const [payload, status] of cases) {
      const lane = await post('notifications', payload);
      const express = await post('notifications', payload, { query: 'not-a-handshake=1' });
      expect([lane.status, express.status]).toEqual([status, status]);
      expect(alike(lane)).toEqual(alike(express));
      expect(lane.bytes.toString()).toBe(express.bytes.toString());
    }
    // both were published (one poke each), before their 202
    await caughtUp();
    expect(
      received.filter(
        (r) =>
          r.topic === pokesTopic &&
          JSON.stringify(r.value.changes) === JSON.stringify([{ kind: 'created', messageId: 'msg-lane' }]),
      ),
    ).toHaveLength(2);
  });

  it('answers forged, unknown, oversized, malformed and misshapen requests as specified, and publishes none of them', async () => {
    const start = received.length;
    const unknown: Linked = { ...a, subscriptionId: randomUUID() };

    // well-formed but not ours: 202, dropped (one POST may mix subscriptions)
    const forged = await notify([
      changeItem({ ...a, clientState: 'guessed-client-state' }, 'forged-1'),
      changeItem(unknown, 'unknown-1'),
    ]);
    expect(forged.status).toBe(202);
    expect((await notify([changeItem({ ...a, clientState: `${a.clientState}x` }, 'forged-2')])).status).toBe(
      202,
    );
    expect((await notify([changeItem(a, 'forged-3', { clientState: null })])).status).toBe(202);
    expect((await notify([changeItem(unknown, 'unknown-2')])).status).toBe(202);
    expect(
      (await notify([lifecycleItem({ ...b, clientState: 'guessed' }, 'subscriptionRemoved')], 'lifecycle'))
        .status,
    ).toBe(202);

    // oversized: a valid notification padded past the limit (announced by Content-Length)
    const padded = JSON.stringify({
      value: [changeItem(a, 'too-big', { padding: 'x'.repeat(MAX_BODY) })],
    });
    const big = await post('notifications', padded);
    expect(big.status).toBe(413);
    expect(big.json()).toEqual({
      error: 'PAYLOAD_TOO_LARGE',
      message: `a notification body may have at most ${MAX_BODY} bytes`,
    });

    // malformed JSON: a valid notification, cut short
    const valid = JSON.stringify({ value: [changeItem(a, 'malformed')] });
    const malformed = await post('notifications', valid.slice(0, -2));
    expect(malformed.status).toBe(400);
    expect(malformed.json()).toEqual({ error: 'INVALID_JSON', message: 'the body is not valid JSON' });

    // wrong shapes: an item that is not a Graph change, a body that is not {value: [...]}
    const shapes: Array<[string, unknown, string]> = [
      [
        'notifications',
        { value: [changeItem(a, 'bad-type', { changeType: 'exfiltrated' })] },
        'value.0.changeType: invalid_enum_value',
      ],
      ['notifications', { value: changeItem(a, 'not-an-array') }, 'value: invalid_type'],
      ['notifications', [changeItem(a, 'bare-array')], '(root): invalid_type'],
      [
        'lifecycle',
        { value: [changeItem(a, 'change-on-lifecycle-url')] },
        'value.0: not a lifecycle notification',
      ],
    ];
    for (const [path, body, problem] of shapes) {
      const res = await post(path, JSON.stringify(body));
      expect(res.status).toBe(400);
      expect(res.json()).toEqual({
        error: 'INVALID_NOTIFICATION',
        message: `not a Graph notification payload: ${problem}`,
      });
    }

    // a marker after all of them: once it is read, everything published before it has been read too
    expect((await notify([changeItem(a, 'marker')])).status).toBe(202);
    await waitFor(
      () =>
        Promise.resolve(
          received.some((r) => JSON.stringify(r.value).includes('"messageId":"marker"')) ? true : undefined,
        ),
      { timeoutMs: 20000, intervalMs: 50, what: 'the marker notification' },
    );
    await caughtUp();
    const after = received.slice(start);
    expect(after.map((r) => [r.topic, r.key, r.value.changes])).toEqual([
      [pokesTopic, a.accountId, [{ kind: 'created', messageId: 'marker' }]],
    ]);

    // the drops are counted in the producer's log, without ids or secrets
    await waitFor(
      () =>
        Promise.resolve(
          /dropped notification items: 1 for unknown subscriptions, 1 with a clientState that does not match/.test(
            producer.output(),
          )
            ? true
            : undefined,
        ),
      { timeoutMs: 5000, intervalMs: 50, what: 'the drop count in the log' },
    );
  });

  it('publishes a lifecycle event as subscription.lifecycle, from either URL', async () => {
    const start = received.length;
    expect((await notify([lifecycleItem(a, 'missed')], 'lifecycle')).status).toBe(202);
    // a subscription without its own lifecycle URL gets its lifecycle events on the notification URL
    expect((await notify([lifecycleItem(b, 'reauthorizationRequired')])).status).toBe(202);
    await caughtUp();
    const after = received.slice(start);
    expect(after.map((r) => ({ topic: r.topic, key: r.key, value: r.value }))).toEqual([
      {
        topic: subscriptionsTopic,
        key: a.accountId,
        value: {
          type: 'subscription.lifecycle',
          v: 1,
          accountId: a.accountId,
          subscriptionId: a.subscriptionId,
          lifecycleEvent: 'missed',
          receivedAt: expect.any(String) as unknown,
        },
      },
      {
        topic: subscriptionsTopic,
        key: b.accountId,
        value: {
          type: 'subscription.lifecycle',
          v: 1,
          accountId: b.accountId,
          subscriptionId: b.subscriptionId,
          lifecycleEvent: 'reauthorizationRequired',
          receivedAt: expect.any(String) as unknown,
        },
      },
    ]);
  });

  it('answers 503, never 202, when Kafka cannot take the notification', async () => {
    const port = await freePort();
    const deadKafka = await freePort(); // nothing listens there
    const base = `http://127.0.0.1:${port}`;
    const cut = spawnApp('producer', {
      ...testRunEnv(run),
      ...secrets,
      ...ownEnv,
      KAFKA_BROKERS: `127.0.0.1:${deadKafka}`,
      PRODUCER_PORT: String(port),
      PUBLIC_BASE_URL: base,
      MIGRATIONS_RUN: 'false',
    });
    try {
      await waitFor(
        async () => {
          if (cut.child.exitCode !== null) throw new Error(`producer exited: ${cut.output()}`);
          const r = await fetch(`${base}/health/live`, { signal: AbortSignal.timeout(3000) }).catch(
            () => undefined,
          );
          return r?.status === 200 ? true : undefined;
        },
        { timeoutMs: 60000, intervalMs: 300, what: 'the producer without Kafka to listen' },
      );
      const t0 = Date.now();
      const res = await post('notifications', JSON.stringify({ value: [changeItem(a, 'no-kafka')] }), {
        base,
      });
      expect(res.status).toBe(503);
      expect(Date.now() - t0).toBeLessThan(3000);
      expect(res.json()).toEqual({
        error: 'NOTIFICATIONS_UNAVAILABLE',
        message: 'the notifications could not be stored right now; deliver them again',
      });
      // the handshake needs no Kafka
      const token = await post('notifications', '', { base, query: 'validationToken=abc' });
      expect(token.bytes.toString()).toBe('abc');
    } finally {
      await cut.stop();
    }
  });

  describe('made-up subscription ids (issue 16: one POST of 10,000 ids was 10,000 Postgres lookups)', () => {
    const runTag = randomBytes(4).toString('hex');
    let madeUpSeq = 0;
    /** a POST of `n` change items for subscriptions that do not exist, as short as Graph's items can be */
    const madeUp = (n: number, path = 'notifications') =>
      JSON.stringify({
        value: Array.from({ length: n }, (_, i) => {
          const subscriptionId = `${runTag}-${(madeUpSeq++).toString(36)}`;
          return path === 'lifecycle'
            ? { subscriptionId, lifecycleEvent: 'missed' }
            : { subscriptionId, changeType: 'created', resource: `r/${i}` };
        }),
      });

    /** a POST from a chosen loopback address (127.0.0.0/8 is all ours), so each test is its own source */
    function postFrom(
      localAddress: string,
      body: string,
      path = 'notifications',
    ): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
      const url = new URL(`${api}/api/v1/graph/${path}`);
      return new Promise((resolve, reject) => {
        const req = http.request(
          {
            host: url.hostname,
            port: url.port,
            path: url.pathname,
            method: 'POST',
            localAddress,
            headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
            timeout: 30000,
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                headers: res.headers,
                body: Buffer.concat(chunks).toString(),
              }),
            );
          },
        );
        req.on('timeout', () => req.destroy(new Error('timeout')));
        req.on('error', reject);
        req.end(body);
      });
    }

    let accessToken: string;
    beforeAll(async () => {
      const res = await fetch(`${api}/api/v1/auth/signup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          email: `bystander-${randomUUID()}@example.test`,
          password: 'a bystander password',
        }),
      });
      expect(res.status).toBe(201);
      accessToken = ((await res.json()) as { accessToken: string }).accessToken;
    });

    /** another user's `GET /accounts`, timed */
    async function timedAccounts(): Promise<number> {
      const t0 = performance.now();
      const res = await fetch(`${api}/api/v1/accounts`, {
        headers: { authorization: `Bearer ${accessToken}` },
        signal: AbortSignal.timeout(30000),
      });
      await res.arrayBuffer();
      expect(res.status).toBe(200);
      return performance.now() - t0;
    }

    it('refuses more than WEBHOOK_MAX_ITEMS items with 413 TOO_MANY_NOTIFICATIONS, on both URLs', async () => {
      const body = madeUp(10_000);
      expect(Buffer.byteLength(body)).toBeLessThan(MAX_BODY);
      for (const [path, payload] of [
        ['notifications', body],
        ['lifecycle', madeUp(MAX_ITEMS + 1, 'lifecycle')],
      ]) {
        const res = await postFrom('127.0.0.1', payload, path);
        expect(res.status).toBe(413);
        expect(JSON.parse(res.body)).toEqual({
          error: 'TOO_MANY_NOTIFICATIONS',
          message: `a notification body may hold at most ${MAX_ITEMS} items`,
        });
      }
      // exactly the cap is read, verified and dropped
      expect((await postFrom('127.0.0.1', madeUp(MAX_ITEMS, 'lifecycle'), 'lifecycle')).status).toBe(202);
    });

    it("keeps another user's GET /accounts under 200 ms while POSTs of 1,000 made-up ids arrive from many addresses", async () => {
      const baseline: number[] = [];
      for (let i = 0; i < 5; i++) baseline.push(await timedAccounts());
      const latencies: number[] = [];
      const statuses: Record<number, number> = {};
      let flooding = true;
      let sent = 0;
      // drawn beforehand, so the test process spends its time timing, not building bodies
      const bodies = Array.from({ length: 200 }, () => madeUp(MAX_ITEMS));
      // 2 concurrent senders, each POST from the next of 200 addresses (each stays within its own budget)
      const sender = async () => {
        while (flooding && sent < bodies.length) {
          const n = sent++;
          const from = `127.0.1.${10 + (n % 200)}`;
          const res = await postFrom(from, bodies[n]);
          statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        }
      };
      const prober = async () => {
        // let the flood build up first
        await new Promise((r) => setTimeout(r, 300));
        while (flooding) {
          latencies.push(await timedAccounts());
          await new Promise((r) => setTimeout(r, 25));
        }
      };
      const senders = Array.from({ length: 2 }, sender);
      const probing = prober();
      await new Promise((r) => setTimeout(r, 4000));
      flooding = false;
      await Promise.all([...senders, probing]);
      const posts = Object.values(statuses).reduce((a, b) => a + b, 0);
      const sorted = [...latencies].sort((x, y) => x - y);
      const p90 = sorted[Math.floor(sorted.length * 0.9)];
      const max = sorted[sorted.length - 1];
      process.stdout.write(
        `[webhook flood] ${posts} POSTs of ${MAX_ITEMS} made-up ids in 4 s, statuses ${JSON.stringify(statuses)}; ` +
          `GET /accounts baseline max ${Math.max(...baseline).toFixed(1)} ms; during the flood ${sorted.length} ` +
          `probes, p90 ${p90.toFixed(1)} ms, max ${max.toFixed(1)} ms\n`,
      );
      // before the fix: one probe in the 4 s, 2 to 4 s long (each POST queued 1,000 queries ahead of the
      // bystander's one); the max is allowed a scheduling hiccup of the shared test machine, the 90th percentile
      // is not
      expect(max).toBeLessThan(1000);
      expect(p90).toBeLessThan(200);
      expect(sorted.length).toBeGreaterThan(10);
      expect(statuses).toEqual({ 202: posts });
      expect(posts).toBeGreaterThan(20);
    }, 30000);

    it('answers 429 with Retry-After to an address that keeps sending unknown ids, and to it alone', async () => {
      const flooder = '127.0.2.1';
      for (let i = 0; i < UNKNOWN_IDS_PER_MINUTE / MAX_ITEMS; i++) {
        expect((await postFrom(flooder, madeUp(MAX_ITEMS))).status).toBe(202);
      }
      const refused = await postFrom(flooder, madeUp(1));
      expect(refused.status).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(JSON.parse(refused.body)).toMatchObject({ error: 'RATE_LIMITED' });
      expect((await postFrom(flooder, madeUp(1, 'lifecycle'), 'lifecycle')).status).toBe(429);
      // another address is served as before
      expect((await postFrom('127.0.2.2', madeUp(1))).status).toBe(202);
      // and a real subscription's notification from the flooding address still gets through once known
      const start = received.length;
      expect(
        (await postFrom('127.0.2.2', JSON.stringify({ value: [changeItem(a, 'known-1')] }))).status,
      ).toBe(202);
      expect((await postFrom(flooder, JSON.stringify({ value: [changeItem(a, 'known-2')] }))).status).toBe(
        202,
      );
      await caughtUp();
      const ids = received
        .slice(start)
        .flatMap((r) => (r.value.changes as Array<{ messageId: string }>).map((i) => i.messageId));
      expect(ids.sort()).toEqual(['known-1', 'known-2']);
    });
  });

  it('never lets a clientState or a secret out: logs, Kafka messages, responses', () => {
    const leaks = [a.clientState, b.clientState, secrets.JWT_SECRET, secrets.MS_CLIENT_SECRET];
    leaks.push(secrets.TOKEN_ENCRYPTION_KEYS.slice(3));
    const everything = [producer.output(), JSON.stringify(received), ...responses].join('\n');
    expect(received.length).toBeGreaterThan(0);
    expect(responses.length).toBeGreaterThan(10);
    for (const secret of leaks) expect(everything).not.toContain(secret);
    expect(everything).not.toContain('guessed-client-state');
  });
});
