/**
 * `npm run bench:webhook`: Graph change notifications POSTed to the real producer on the real stack (Postgres
 * for the subscription lookup, Kafka with acks from all in-sync replicas before every 202), by autocannon on
 * loopback with 50 connections for 10 s, one valid notification item per request.
 *
 * Baseline, measured in the same run with the same load: a bare Node `http` server (its own process, like the
 * producer) that reads the body and answers 202. `ratio` is our accepted notifications/s divided by its
 * requests/s. Every request counted for us must have been answered 202, and the topic must then hold one
 * message per 202 (one item, one account, one message), plus at most one per connection for the requests still
 * in flight when a run stops: both are checked, and non-2xx answers reported.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { topicName, Topics } from '@email-core/contracts';
import {
  createDataSource,
  GraphSubscriptionsRepository,
  MailAccountsRepository,
  UsersRepository,
} from '@email-core/database';
import { createKafka } from '@email-core/kafka';
import { hashClientState } from '../apps/producer/src/graph-webhook/client-state';
import globalSetup from '../libs/testing/src/jest/global-setup';
import globalTeardown from '../libs/testing/src/jest/global-teardown';
import { freePort } from '../libs/testing/src/emulator';
import { spawnApp } from '../libs/testing/src/spawn-app';
import { currentTestRun, testRunEnv } from '../libs/testing/src/test-run';
import { waitFor } from '../libs/testing/src/wait-for';
import { report } from './report';

const CONNECTIONS = Number(process.env.BENCH_WEBHOOK_CONNECTIONS ?? 50);
const DURATION_S = Number(process.env.BENCH_WEBHOOK_SECONDS ?? 10);
const WARMUP_S = 3;

interface Measured {
  requestsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  requests: number;
  status202: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

async function load(url: string, body: string, seconds: number): Promise<Measured> {
  const r = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections: CONNECTIONS,
    duration: seconds,
  });
  const status202 = r.statusCodeStats?.['202']?.count ?? 0;
  return {
    requestsPerSecond: Math.round(r.requests.average),
    latencyP50Ms: r.latency.p50,
    latencyP99Ms: r.latency.p99,
    latencyMaxMs: r.latency.max,
    requests: r.requests.total,
    status202,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
  };
}

/** a Node http server in its own process that drains the body and answers 202, nothing else */
async function startBare(): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const script = `require('http').createServer((req, res) => {
      req.on('data', () => {}).on('end', () => { res.statusCode = 202; res.end(); });
    }).listen(${port}, '127.0.0.1', () => console.log('ready'));`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`bare server exited ${code}`)));
  });
  return { url: `http://127.0.0.1:${port}/api/v1/graph/notifications`, child };
}

async function topicMessageCount(brokers: string[], topic: string): Promise<number> {
  const admin = createKafka({ brokers, clientId: 'email-core-bench-webhook' }).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}

const row = (name: string, m: Measured): string[] => [
  name,
  String(m.requestsPerSecond),
  String(m.latencyP50Ms),
  String(m.latencyP99Ms),
  String(m.non2xx + m.errors + m.timeouts),
  String(m.requests),
];

async function main(): Promise<void> {
  await globalSetup();
  const run = currentTestRun();
  const port = await freePort();
  const api = `http://127.0.0.1:${port}`;
  const producer = spawnApp('producer', {
    ...testRunEnv(run),
    MS_CLIENT_ID: 'email-core-bench',
    MS_CLIENT_SECRET: randomBytes(16).toString('hex'),
    JWT_SECRET: randomBytes(32).toString('hex'),
    TOKEN_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    PRODUCER_PORT: String(port),
    PUBLIC_BASE_URL: api,
    LOG_LEVEL: 'warn',
  });
  const dataSource = createDataSource({ url: run.databaseUrl, poolSize: 2 });
  let bare: ChildProcess | undefined;
  try {
    await waitFor(
      async () => {
        if (producer.child.exitCode !== null) throw new Error(`producer exited: ${producer.output()}`);
        const r = await fetch(`${api}/health`, { signal: AbortSignal.timeout(3000) }).catch(() => undefined);
        return r?.status === 200 ? true : undefined;
      },
      { timeoutMs: 60000, intervalMs: 300, what: 'the producer to be healthy' },
    );

    // one linked account with its subscription, as the subscription manager stores it
    await dataSource.initialize();
    const userId = randomUUID();
    await new UsersRepository(dataSource).createUser({
      id: userId,
      email: `bench-${userId}@example.test`,
      passwordHash: 'not-a-real-hash',
    });
    const { id: accountId } = await new MailAccountsRepository(dataSource).upsertLinked(dataSource.manager, {
      userId,
      provider: 'outlook',
      externalUserId: randomUUID(),
      email: 'bench-webhook@contoso.example',
      displayName: 'Bench',
    });
    const subscriptionId = randomUUID();
    const clientState = randomBytes(32).toString('base64url');
    await new GraphSubscriptionsRepository(dataSource).save({
      accountId,
      subscriptionId,
      clientStateHash: hashClientState(clientState),
      resource: 'me/messages',
      expiresAt: new Date(Date.now() + 24 * 3600e3),
    });

    const messageId = `AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0A${randomBytes(16).toString('hex')}`;
    const body = JSON.stringify({
      value: [
        {
          id: randomUUID(),
          subscriptionId,
          subscriptionExpirationDateTime: new Date(Date.now() + 24 * 3600e3).toISOString(),
          changeType: 'created',
          resource: `Users/${userId}/Messages/${messageId}`,
          tenantId: '9188040d-6c67-4c5b-b112-36a304b66dad',
          clientState,
          resourceData: {
            '@odata.type': '#Microsoft.Graph.Message',
            '@odata.id': `Users/${userId}/Messages/${messageId}`,
            '@odata.etag': 'W/"CQAAABYAAAD"',
            id: messageId,
          },
        },
      ],
    });
    const ours = `${api}/api/v1/graph/notifications`;
    const first = await fetch(ours, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    if (first.status !== 202) throw new Error(`a valid notification was answered ${first.status}`);

    process.stdout.write(
      `warming up (${WARMUP_S} s), then ${DURATION_S} s each, ${CONNECTIONS} connections\n`,
    );
    const warm = await load(ours, body, WARMUP_S);
    const measured = await load(ours, body, DURATION_S);
    const topic = topicName(run.topicPrefix, Topics.mailboxPokes);
    const published = await topicMessageCount(run.kafkaBrokers, topic);
    // requests still in flight when autocannon stops a run are answered (and published) but not counted
    const counted = 1 + warm.status202 + measured.status202;
    const inFlightAtStop = published - counted;

    const started = await startBare();
    bare = started.child;
    await load(started.url, body, WARMUP_S);
    const baseline = await load(started.url, body, DURATION_S);

    const ratio = Number((measured.requestsPerSecond / baseline.requestsPerSecond).toFixed(3));
    const results = {
      name: 'webhook',
      date: new Date().toISOString(),
      connections: CONNECTIONS,
      durationSeconds: DURATION_S,
      ours: { ...measured, kafkaMessagesPublished: published, countedAccepted: counted, inFlightAtStop },
      bare: baseline,
      ratio,
    };
    report(
      'webhook',
      [
        ['server', 'requests/s', 'p50 ms', 'p99 ms', 'non-2xx', 'requests'],
        row('producer: notification → Kafka (acks all) → 202', measured),
        row('bare node http: 202', baseline),
      ],
      results,
    );
    if (measured.non2xx + measured.errors + measured.timeouts > 0 || measured.status202 !== measured.requests)
      throw new Error(`not every request was accepted: ${JSON.stringify(measured)}`);
    if (inFlightAtStop < 0 || inFlightAtStop > 2 * CONNECTIONS)
      throw new Error(
        `the topic holds ${published} messages for ${counted} counted 202s (at most ${2 * CONNECTIONS} more in flight)`,
      );
  } finally {
    bare?.kill();
    await dataSource.destroy().catch(() => undefined);
    await producer.stop();
    await globalTeardown();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
