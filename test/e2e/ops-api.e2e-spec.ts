import { randomBytes } from 'node:crypto';
import { Kafka, Partitioners, type Admin, type Producer } from 'kafkajs';
import { CORRELATION_ID_HEADER, Topics } from '@email-core/contracts';
import {
  apiCall,
  currentTestRun,
  grantOperator,
  linkOutlook,
  runOpsGrant,
  signUp,
  startProduct,
  waitFor,
  waitForAccountStatus,
  type RunningProduct,
} from '@email-core/testing';

interface TopicView {
  key: string;
  name: string;
  exists: boolean;
  partitions: Array<{ partition: number; lowOffset: number; endOffset: number; messages: number }>;
  endOffsetTotal: number;
}
interface GroupView {
  groupId: string;
  state: string;
  members: number;
  topics: Array<{
    topic: string;
    partitions: Array<{
      partition: number;
      committedOffset: number | null;
      endOffset: number;
      lag: number | null;
    }>;
    lag: number;
  }>;
  totalLag: number;
}
interface KafkaOverview {
  topicPrefix: string;
  fetchedAt: string;
  topics: TopicView[];
  groups: GroupView[];
  totalLag: number;
}
interface DeadLetter {
  partition: number;
  offset: number;
  key: string;
  timestamp: string;
  originalTopic: string | null;
  attempts: number | null;
  error: string;
  failedAt: string | null;
  payload: string;
  payloadTruncated: boolean;
  replayable: boolean;
  replayedAt: string | null;
  correlationId: string | null;
}
interface DeadLetterList {
  topic: string;
  items: DeadLetter[];
}
interface SubscriptionView {
  accountId: string;
  mailboxEmail: string;
  subscriptionId: string;
  resource: string;
  expiresAt: string;
  state: 'active' | 'expiring_soon' | 'expired';
}
interface ApiError {
  error: string;
  message: string;
  details?: { replayedAt?: string };
}

const MAILBOX = 'ops-owner@ops.example';
const NOT_JSON = '{not json';
const POISON_CORRELATION = `e2e-poison-${Date.now().toString(36)}`;

/**
 * Issue 7, the Ops API on the real stack: the project's topics with offsets, consumer groups with a lag that
 * is exactly what was published while the consumer was down, poison messages reaching the dead-letter list, a
 * replay that republishes to the original topic (and, still poison, comes back to the dead-letter topic), 409 on
 * a second replay, Graph subscriptions with their expiry, and the access rules (401, 403 OPS_FORBIDDEN).
 * Issue 16: operator rights come only from the role `npm run ops:grant` stores on the user (the real script, run as
 * a child process against this product's database), never from the token's email claim, even for an address listed
 * in OPS_ADMIN_EMAILS (no address is verified yet); grant and revoke take effect without a new sign-in, and every
 * Ops answer is audit-logged.
 */
describe('Ops API', () => {
  let product: RunningProduct;
  let kafka: Kafka;
  let admin: Admin;
  let producer: Producer;
  let prefix = '';
  const operatorEmail = `ops-${randomBytes(4).toString('hex')}@example.test`;
  let operator = '';
  let bystander = '';
  let accountId = '';
  let syncPartition = -1;

  const topic = (t: string) => `${prefix}${t}`;
  const syncGroup = () => `${prefix}email-core-sync`;
  const ops = <T>(method: string, path: string, body?: unknown, token = operator) =>
    apiCall<T>(product.api, method, `/api/v1/ops${path}`, { token, body });
  const overview = async (): Promise<KafkaOverview> => {
    const res = await ops<KafkaOverview>('GET', '/kafka');
    expect(res.status).toBe(200);
    return res.body;
  };
  const deadLetters = async (limit = 50): Promise<DeadLetter[]> => {
    const res = await ops<DeadLetterList>('GET', `/dead-letters?limit=${limit}`);
    expect(res.status).toBe(200);
    return res.body.items;
  };
  const syncLag = (o: KafkaOverview) =>
    o.groups
      .find((g) => g.groupId === syncGroup())
      ?.topics.find((t) => t.topic === topic(Topics.syncRequests))
      ?.partitions.find((p) => p.partition === syncPartition);
  const endOf = (o: KafkaOverview, name: string, partition: number) =>
    o.topics.find((t) => t.name === name)?.partitions.find((p) => p.partition === partition)?.endOffset;

  beforeAll(async () => {
    product = await startProduct({
      // its own topics and groups: the dead-letter list and the group list hold only this file's
      isolated: true,
      // listed among others, in another case: an unverified address, so this alone makes nobody an operator; and
      // `*`, which `npm start` used to set (every signed-in user an operator): now ignored, with a warning.
      // LOG_LEVEL=log: the audit lines of 2xx answers are at log level
      appEnv: {
        OPS_ADMIN_EMAILS: `someone@else.example, *, ${operatorEmail.toUpperCase()}`,
        LOG_LEVEL: 'log',
      },
    });
    prefix = product.env.KAFKA_TOPIC_PREFIX;
    operator = (await signUp(product.api, operatorEmail)).token;
    bystander = (await signUp(product.api)).token;
    await product.emulator.admin('POST', '/_emulator/mailboxes', {
      address: MAILBOX,
      displayName: 'Ops Owner',
      password: 'mailbox-password',
      seed: { messages: 15, seed: 7 },
    });
    await linkOutlook(product, operator, MAILBOX, 'mailbox-password');
    accountId = (await waitForAccountStatus(product.api, operator, 'synced')).id;

    kafka = new Kafka({ clientId: 'ops-e2e', brokers: currentTestRun().kafkaBrokers, logLevel: 0 });
    admin = kafka.admin();
    await admin.connect();
    // the same partitioner as the product (murmur2): a message keyed by the account lands on its partition
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
  }, 180000);

  afterAll(async () => {
    await producer?.disconnect();
    await admin?.disconnect();
    await product?.stop();
  });

  const ROUTES: Array<[string, string, unknown]> = [
    ['GET', '/kafka', undefined],
    ['GET', '/dead-letters', undefined],
    // an offset the topic does not hold: an operator gets 404, so the route is reached without replaying anything
    ['POST', '/dead-letters/replay', { partition: 0, offset: 999_999_999 }],
    ['GET', '/subscriptions', undefined],
    // issue 21: the primary and the read replica
    ['GET', '/database', undefined],
    // issue 22: the live panel
    ['GET', '/live', undefined],
  ];
  const statuses = async (token: string) => {
    const seen: Array<[string, number, string | undefined]> = [];
    for (const [method, path, body] of ROUTES) {
      const res = await ops<ApiError>(method, path, body, token);
      seen.push([path, res.status, res.status >= 400 ? res.body.error : undefined]);
    }
    return seen;
  };
  const denied = ROUTES.map(([, path]) => [path, 403, 'OPS_FORBIDDEN']);
  const allowed = [
    ['/kafka', 200, undefined],
    ['/dead-letters', 200, undefined],
    ['/dead-letters/replay', 404, 'DEAD_LETTER_NOT_FOUND'],
    ['/subscriptions', 200, undefined],
    ['/database', 200, undefined],
    ['/live', 200, undefined],
  ];
  const meOperator = async (token: string) =>
    (await apiCall<{ operator: boolean }>(product.api, 'GET', '/api/v1/me', { token })).body.operator;
  // the producer's log lines: `... [OpsAudit] ops-audit {json}` (Nest may colour the line: parse up to the last brace)
  const auditLines = (): Array<Record<string, unknown>> =>
    product.producer
      .output()
      .split('\n')
      .filter((l) => l.includes('ops-audit {'))
      .map((l) => {
        const json = l.slice(l.indexOf('ops-audit {') + 'ops-audit '.length, l.lastIndexOf('}') + 1);
        return JSON.parse(json) as Record<string, unknown>;
      });

  it('a fresh sign-up, even at an address OPS_ADMIN_EMAILS lists (and with the * npm start used to set), gets 403 on every route until ops:grant makes them an operator; --revoke takes it back, all without a new sign-in', async () => {
    for (const [method, path, body] of ROUTES) {
      const anonymous = await apiCall<ApiError>(product.api, method, `/api/v1/ops${path}`, { body });
      expect([path, anonymous.status, anonymous.body.error]).toEqual([path, 401, 'UNAUTHENTICATED']);
    }
    // the token's email claim is the listed address: not enough (nobody has verified it); `*` lets nobody in
    expect(await statuses(operator)).toEqual(denied);
    expect(await statuses(bystander)).toEqual(denied);
    expect(product.producer.output()).toContain('OPS_ADMIN_EMAILS=* is ignored: it makes nobody an operator');
    expect(await meOperator(operator)).toBe(false);

    // the real script, as whoever runs the deployment would run it
    const unknown = await runOpsGrant(
      product.databaseUrl,
      `nobody-${randomBytes(3).toString('hex')}@example.test`,
    );
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no user has the address nobody-.*; they sign up first/);
    const granted = await runOpsGrant(product.databaseUrl, operatorEmail.toUpperCase());
    expect([granted.code, granted.stderr]).toEqual([0, '']);
    expect(granted.stdout).toMatch(
      new RegExp(`granted: ${operatorEmail} \\(user [0-9a-f-]{36}\\) is now an operator`),
    );
    expect(granted.stdout).not.toMatch(/password/i);
    const again = await runOpsGrant(product.databaseUrl, operatorEmail);
    expect(again.stdout).toMatch(/unchanged: .* was already an operator/);

    // the same access token as before the grant
    expect(await statuses(operator)).toEqual(allowed);
    expect(await meOperator(operator)).toBe(true);
    expect(await statuses(bystander)).toEqual(denied);
    expect(await meOperator(bystander)).toBe(false);

    const revoked = await runOpsGrant(product.databaseUrl, operatorEmail, { revoke: true });
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toMatch(/revoked: .* is no longer an operator/);
    expect(await statuses(operator)).toEqual(denied);
    expect(await meOperator(operator)).toBe(false);

    // an operator for the rest of this file
    await grantOperator(product.databaseUrl, operatorEmail);
    expect(await statuses(operator)).toEqual(allowed);
  }, 60000);

  it('audit-logs every Ops answer (who, route, when, status), never a token or a query string', async () => {
    // lines are told apart by their time (`at` is when a request arrived): the previous test's last lines may still be
    // on their way from the process, and may even be written after this line runs, but their requests came in before
    const since = Date.now();
    await ops('GET', '/dead-letters?limit=3');
    await ops('GET', '/kafka', undefined, bystander);
    await apiCall(product.api, 'GET', '/api/v1/ops/subscriptions');
    const lines = await waitFor(
      () => {
        const mine = auditLines().filter((l) => Date.parse(String(l.at)) >= since);
        return Promise.resolve(mine.length >= 3 ? mine : undefined);
      },
      { timeoutMs: 5000, what: 'three audit lines' },
    );
    const whoAmI = await apiCall<{ id: string }>(product.api, 'GET', '/api/v1/me', { token: operator });
    expect(lines).toEqual([
      expect.objectContaining({
        userId: whoAmI.body.id,
        operator: true,
        method: 'GET',
        route: '/api/v1/ops/dead-letters',
        status: 200,
      }),
      expect.objectContaining({ operator: false, route: '/api/v1/ops/kafka', status: 403 }),
      expect.objectContaining({ userId: null, route: '/api/v1/ops/subscriptions', status: 401 }),
    ]);
    for (const l of lines) expect(Date.parse(String(l.at))).toBeLessThanOrEqual(Date.now());
    const text = product.producer.output();
    for (const secret of [operator, bystander, product.env.JWT_SECRET]) expect(text).not.toContain(secret);
  });

  it("another user never sees the operator's mailbox address outside the Ops API", async () => {
    const accounts = await apiCall(product.api, 'GET', '/api/v1/accounts', { token: bystander });
    expect(accounts.status).toBe(200);
    expect(JSON.stringify(accounts.body)).not.toContain(MAILBOX);
    const subs = await ops('GET', '/subscriptions', undefined, bystander);
    expect(subs.status).toBe(403);
    expect(JSON.stringify(subs.body)).not.toContain(MAILBOX);
  });

  it("lists every project topic with its partitions and offsets, and the project's consumer groups", async () => {
    const o = await overview();
    expect(o.topicPrefix).toBe(prefix);
    expect(o.topics.map((t) => t.name)).toEqual(Object.values(Topics).map((t) => topic(t)));
    for (const t of o.topics) {
      expect(t.exists).toBe(true);
      expect(t.partitions.map((p) => p.partition)).toEqual([0, 1, 2, 3, 4, 5]);
      for (const p of t.partitions) expect(p.endOffset).toBeGreaterThanOrEqual(p.lowOffset);
    }
    // the link's sync request is on the sync topic, on its account's partition
    const sync = o.topics.find((t) => t.key === 'syncRequests');
    const used = sync?.partitions.filter((p) => p.endOffset > 0) ?? [];
    expect(used).toHaveLength(1);
    syncPartition = used[0].partition;
    expect(sync?.endOffsetTotal).toBe(used[0].endOffset);

    // the consumer's groups and this API instance's real-time group, each under the prefix; nobody else's.
    // The real-time group joins in the background after the API is healthy: wait until the broker lists it.
    const groups = await waitFor(
      async () => {
        const listed = (await overview()).groups;
        return listed.some((g) => g.groupId.startsWith(`${prefix}email-core-realtime-`)) ? listed : undefined;
      },
      { timeoutMs: 30000, intervalMs: 300, what: "the API instance's real-time group to join" },
    );
    const names = groups.map((g) => g.groupId.slice(prefix.length));
    expect(names).toEqual(
      expect.arrayContaining([
        'email-core-sync',
        'email-core-mail-commands',
        'email-core-notifications',
        'email-core-subscriptions',
        'email-core-retry',
        expect.stringMatching(/^email-core-realtime-producer-0-/) as unknown,
      ]),
    );
    for (const g of groups) expect(g.groupId.startsWith(`${prefix}email-core-`)).toBe(true);
    // the sync group processed the link's request: committed up to the end, lag 0
    const settled = await waitFor(
      async () => {
        const lag = syncLag(await overview());
        return lag?.lag === 0 ? lag : undefined;
      },
      { timeoutMs: 20000, intervalMs: 300, what: 'the sync group to commit the link request' },
    );
    expect(settled.committedOffset).toBe(used[0].endOffset);
    const group = (await overview()).groups.find((g) => g.groupId === syncGroup());
    expect(group).toMatchObject({ state: 'Stable', members: 1, totalLag: 0 });
  }, 60000);

  it('shows the lag of messages published while the consumer is down; they are dead-lettered once it is back', async () => {
    expect(syncPartition).toBeGreaterThanOrEqual(0);
    await product.consumer.stop();
    const before = await overview();
    const committed = syncLag(before)?.committedOffset;
    expect(committed).toEqual(expect.any(Number));

    // two poison messages keyed by the account, so on its partition: not JSON, and not the contract
    const invalid = JSON.stringify({
      type: 'sync.requested',
      v: 1,
      accountId,
      reason: 'not-a-reason',
      requestedAt: new Date().toISOString(),
    });
    await producer.send({
      topic: topic(Topics.syncRequests),
      messages: [
        // the first as if published by a request whose id is POISON_CORRELATION (the dead letter keeps it)
        { key: accountId, value: NOT_JSON, headers: { [CORRELATION_ID_HEADER]: POISON_CORRELATION } },
        { key: accountId, value: invalid },
      ],
    });

    const down = await overview();
    const lag = syncLag(down);
    expect(lag).toEqual({
      partition: syncPartition,
      committedOffset: committed,
      endOffset: (committed ?? 0) + 2,
      lag: 2,
    });
    const group = down.groups.find((g) => g.groupId === syncGroup());
    expect(group).toMatchObject({ state: 'Empty', members: 0 });
    expect(group?.totalLag).toBe(2);
    expect(down.totalLag).toBeGreaterThanOrEqual(2);

    await product.restartConsumer();
    const dead = await waitFor(
      async () => {
        const items = (await deadLetters()).filter((d) => d.key === accountId);
        return items.length === 2 ? items : undefined;
      },
      { timeoutMs: 30000, intervalMs: 500, what: 'the two dead letters' },
    );
    // newest first
    expect(dead.map((d) => d.payload)).toEqual([invalid, NOT_JSON]);
    expect(dead[1]).toMatchObject({
      originalTopic: topic(Topics.syncRequests),
      attempts: 1,
      error: 'INVALID_MESSAGE: value is not JSON',
      payloadTruncated: false,
      replayable: true,
      replayedAt: null,
    });
    expect(dead[0].error).toMatch(/^INVALID_MESSAGE: reason: /);
    // the failed work's correlation id, to find its log lines: the one it came with, else the worker's fresh one
    expect(dead[1].correlationId).toBe(POISON_CORRELATION);
    expect(dead[0].correlationId).toEqual(expect.stringMatching(/^[A-Za-z0-9._:-]{1,128}$/));
    expect(dead[0].correlationId).not.toBe(POISON_CORRELATION);
    expect(Date.parse(dead[0].timestamp)).toBeGreaterThanOrEqual(Date.parse(dead[1].timestamp));
    // the worker moved past them: lag back to 0
    await waitFor(async () => ((syncLag(await overview())?.lag ?? -1) === 0 ? true : undefined), {
      timeoutMs: 20000,
      intervalMs: 300,
      what: 'the sync group to catch up',
    });
    // `limit` counts from the newest
    const newest = await deadLetters(1);
    expect(newest.map((d) => d.payload)).toEqual([invalid]);
  }, 90000);

  it('replays a dead letter to its original topic (where it fails again), and answers 409 the second time', async () => {
    const [target] = (await deadLetters()).filter((d) => d.payload === NOT_JSON);
    const before = await overview();
    const syncEnd = endOf(before, topic(Topics.syncRequests), syncPartition) ?? -1;
    const groupsBefore = (await admin.listGroups()).groups.map((g) => g.groupId);

    const replay = await ops<{ originalTopic: string; key: string; replayedAt: string }>(
      'POST',
      '/dead-letters/replay',
      { partition: target.partition, offset: target.offset },
    );
    expect(replay.status).toBe(202);
    expect(replay.body).toMatchObject({ originalTopic: topic(Topics.syncRequests), key: accountId });

    // republished on its original topic and partition, with the same key and value
    const after = await overview();
    expect(endOf(after, topic(Topics.syncRequests), syncPartition)).toBe(syncEnd + 1);
    // still poison: the worker dead-letters it again, as a first delivery
    const again = await waitFor(
      async () => {
        const items = (await deadLetters()).filter((d) => d.payload === NOT_JSON);
        return items.length === 2 ? items : undefined;
      },
      { timeoutMs: 30000, intervalMs: 500, what: 'the replayed message back in the dead-letter topic' },
    );
    // the replay carried the dead letter's correlation id: the second failure has the same one
    expect(again[0]).toMatchObject({
      key: accountId,
      attempts: 1,
      replayedAt: null,
      correlationId: POISON_CORRELATION,
    });
    expect(again[0].offset).toBeGreaterThan(target.offset);
    expect(again[1]).toMatchObject({ offset: target.offset, replayedAt: replay.body.replayedAt });

    const second = await ops<ApiError>('POST', '/dead-letters/replay', {
      partition: target.partition,
      offset: target.offset,
    });
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({
      error: 'ALREADY_REPLAYED',
      details: { replayedAt: replay.body.replayedAt },
    });
    expect(endOf(await overview(), topic(Topics.syncRequests), syncPartition)).toBe(syncEnd + 1);
    const forced = await ops<{ previouslyReplayedAt: string | null }>('POST', '/dead-letters/replay', {
      partition: target.partition,
      offset: target.offset,
      force: true,
    });
    expect(forced.status).toBe(202);
    expect(forced.body.previouslyReplayedAt).toBe(replay.body.replayedAt);
    expect(endOf(await overview(), topic(Topics.syncRequests), syncPartition)).toBe(syncEnd + 2);

    // reading the dead letters left no reader group behind and moved no real group's offsets
    const groupsAfter = (await admin.listGroups()).groups.map((g) => g.groupId);
    expect(groupsAfter.filter((g) => g.includes('ops-dlq-reader'))).toEqual([]);
    expect(groupsBefore.filter((g) => g.includes('ops-dlq-reader'))).toEqual([]);
    const dlqGroups = await Promise.all(
      groupsAfter
        .filter((g) => g.startsWith(prefix))
        .map(async (g) => admin.fetchOffsets({ groupId: g, topics: [topic(Topics.deadLetter)] })),
    );
    // nothing in the product reads the dead-letter topic, so no group has an offset on it
    for (const offsets of dlqGroups) {
      for (const p of offsets[0].partitions) expect(p.offset).toBe('-1');
    }
    expect(dlqGroups.length).toBeGreaterThanOrEqual(6);
  }, 90000);

  it('refuses a replay of an offset the topic does not hold (404) and a malformed body (400)', async () => {
    const missing = await ops<ApiError>('POST', '/dead-letters/replay', { partition: 0, offset: 1_000_000 });
    expect(missing.status).toBe(404);
    expect(missing.body.error).toBe('DEAD_LETTER_NOT_FOUND');
    const noPartition = await ops<ApiError>('POST', '/dead-letters/replay', { partition: 42, offset: 0 });
    expect(noPartition.status).toBe(404);
    for (const body of [
      {},
      { partition: -1, offset: 0 },
      { partition: 0, offset: 'x' },
      { partition: 0, offset: 1.5 },
      { partition: 0, offset: 0, force: 'yes' },
      { partition: 0, offset: 0, extra: true },
    ]) {
      const res = await ops<ApiError>('POST', '/dead-letters/replay', body);
      expect([JSON.stringify(body), res.status, res.body.error]).toEqual([
        JSON.stringify(body),
        400,
        'VALIDATION_FAILED',
      ]);
    }
    for (const query of ['limit=0', 'limit=501', 'limit=abc', 'other=1']) {
      const res = await ops<ApiError>('GET', `/dead-letters?${query}`);
      expect([query, res.status, res.body.error]).toEqual([query, 400, 'VALIDATION_FAILED']);
    }
  });

  it("lists the linked account's Graph subscription with its expiry and state", async () => {
    const sub = await waitFor(
      async () => {
        const res = await ops<{ now: string; total: number; items: SubscriptionView[] }>(
          'GET',
          '/subscriptions',
        );
        return res.body.items.find((s) => s.accountId === accountId);
      },
      { timeoutMs: 30000, intervalMs: 500, what: "the account's subscription" },
    );
    expect(sub).toMatchObject({ mailboxEmail: MAILBOX, state: 'active' });
    expect(sub.subscriptionId).toEqual(expect.any(String));
    expect(sub.resource).toMatch(/messages/);
    // the emulator's default cap is 4,230 minutes; the consumer asks for close to it
    expect(Date.parse(sub.expiresAt) - Date.now()).toBeGreaterThan(3600 * 1000);
    // the same subscription the emulator holds
    const live = await product.emulator.admin<{
      value: Array<{ id: string; address: string; state: string }>;
    }>('GET', '/_emulator/subscriptions');
    expect(live.value.filter((s) => s.address === MAILBOX && s.state === 'active').map((s) => s.id)).toEqual([
      sub.subscriptionId,
    ]);
  }, 60000);

  it('never answers a secret', async () => {
    const bodies = [
      JSON.stringify((await ops('GET', '/kafka')).body),
      JSON.stringify((await ops('GET', '/dead-letters')).body),
      JSON.stringify((await ops('GET', '/subscriptions')).body),
    ].join('\n');
    for (const secret of [
      product.env.JWT_SECRET,
      product.env.MS_CLIENT_SECRET,
      product.env.TOKEN_ENCRYPTION_KEYS.split(':')[1],
      operator,
    ]) {
      expect(bodies).not.toContain(secret);
    }
    expect(bodies).not.toMatch(/clientState|accessToken|refreshToken/i);
  });
});
