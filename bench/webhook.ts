/**
 * `npm run bench:webhook`: Graph change notifications POSTed to the real producer on the real stack (Postgres
 * for the subscription lookup, Redis for the per-IP rate limit, Kafka with acks from all in-sync replicas before
 * every 202), by autocannon on loopback with 50 connections for 10 s each, in two scenarios:
 *
 * 1. `single`: one valid notification item per request (the issue's headline ratio);
 * 2. `batch`: Graph-sized batches, 100 items per POST, each for a different subscription of a different account
 *    (the most Kafka messages a POST can make: one poke per account), reported as items per second.
 *
 * Baseline, measured in the same run with the same load and the same bodies: a bare Node `http` server (its own
 * process, like the producer) that reads the body and answers 202. `ratio` is our accepted single-item
 * requests/s divided by its requests/s (`batchRatio` the same for batches). Every request counted for us must
 * have been answered 202, and the topic must then hold one message per account per 202 (1 for a single item,
 * 100 for a batch), plus at most one request's worth per connection for the requests still in flight when a run
 * stops: both are checked, and non-2xx answers reported. The producer's own CPU time per request (from /proc) is
 * reported beside each rate: on a shared machine it says more than the rate does. Each scenario then runs again
 * at half and at a quarter of the rate it reached, as an open loop (scripts/open-loop.ts: requests evenly spaced
 * over the run on up to 50 keep-alive connections, each timed from when it was due): the latency Graph would see
 * below saturation, where at saturation 50 closed-loop connections measure mostly the queue (latency ≈
 * connections / rate). Until session 31 this run used autocannon's overallRate, which sends each second's
 * requests in one burst at its start.
 *
 * The per-IP webhook rate limit (WEBHOOK_RATE_LIMIT_PER_MINUTE, 120,000 by default) is set far above the load,
 * since autocannon is one address and Graph is many: every request still counts in Redis, none is refused.
 * BENCH_WEBHOOK_CPU_PROF=<dir> writes the producer's CPU profile of each measured run of ours there (named in the
 * output); BENCH_WEBHOOK_SCENARIOS=single,batch;
 * BENCH_WEBHOOK_FRACTIONS=0.5,0.25 the open-loop runs' rates, as fractions of the closed-loop rate.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import autocannon from 'autocannon';
import { topicName, Topics } from '@email-core/contracts';
import type { DataSource } from 'typeorm';
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
import { writeCpuProfilePreload } from '../scripts/cpu-profile-preload';
import { openLoop } from '../scripts/open-loop';
import { cpuSeconds } from './proc';
import { report } from './report';

const CONNECTIONS = Number(process.env.BENCH_WEBHOOK_CONNECTIONS ?? 50);
const DURATION_S = Number(process.env.BENCH_WEBHOOK_SECONDS ?? 10);
const WARMUP_S = 3;
/** how long the producer's CPU at rest is measured */
const REST_S = 5;
const BATCH_ITEMS = 100;
const SCENARIOS = (process.env.BENCH_WEBHOOK_SCENARIOS ?? 'single,batch').split(',');
/** the open-loop runs' rates, as fractions of the closed-loop rate just measured */
const FRACTIONS = (process.env.BENCH_WEBHOOK_FRACTIONS ?? '0.5,0.25').split(',').map(Number);
const CPU_PROF_DIR = process.env.BENCH_WEBHOOK_CPU_PROF
  ? path.resolve(process.env.BENCH_WEBHOOK_CPU_PROF)
  : '';

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
  /** the server process's CPU (user + system) over the run, per request, in microseconds */
  cpuUsPerRequest: number;
}

/** `connections` connections for `seconds`, each sending its next request as soon as the last is answered */
async function load(url: string, body: string, seconds: number, pid: number | undefined): Promise<Measured> {
  const cpuBefore = cpuSeconds(pid);
  const r = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections: CONNECTIONS,
    duration: seconds,
  });
  const cpu = cpuSeconds(pid) - cpuBefore;
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
    cpuUsPerRequest: r.requests.total > 0 ? Math.round((cpu * 1e6) / r.requests.total) : 0,
  };
}

/** `rate` requests a second, evenly spaced, each timed from when it was due (scripts/open-loop.ts) */
async function loadAtRate(
  url: string,
  body: string,
  seconds: number,
  pid: number | undefined,
  rate: number,
): Promise<Measured> {
  const cpuBefore = cpuSeconds(pid);
  const r = await openLoop({ url, body, rate, seconds, connections: CONNECTIONS });
  const cpu = cpuSeconds(pid) - cpuBefore;
  return { ...r, cpuUsPerRequest: Math.round((cpu * 1e6) / r.requests) };
}

const atRateLabel = (m: { fraction: number; offeredPerSecond: number }): string =>
  `  the same at ${m.fraction} of that rate (${m.offeredPerSecond}/s, evenly spaced)`;

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

const row = (name: string, m: Measured, items: number): string[] => [
  name,
  String(m.requestsPerSecond),
  String(m.requestsPerSecond * items),
  String(m.latencyP50Ms),
  String(m.latencyP99Ms),
  String(m.cpuUsPerRequest),
  String(m.non2xx + m.errors + m.timeouts),
  String(m.requests),
];

/** one change notification as Graph sends it */
function notificationItem(subscriptionId: string, clientState: string, userId: string): unknown {
  const messageId = `AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0A${randomBytes(16).toString('hex')}`;
  return {
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
  };
}

interface Subscribed {
  userId: string;
  subscriptionId: string;
  clientState: string;
}

/** linked Outlook accounts, each with its subscription, as the subscription manager stores them */
async function subscribedAccounts(dataSource: DataSource, n: number): Promise<Subscribed[]> {
  const out: Subscribed[] = [];
  for (let i = 0; i < n; i++) {
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
      email: `bench-webhook-${i}@contoso.example`,
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
    out.push({ userId, subscriptionId, clientState });
  }
  return out;
}

interface ScenarioResult {
  items: number;
  bodyBytes: number;
  ours: Measured & { kafkaMessagesPublished: number; countedAccepted: number; inFlightAtStop: number };
  atRates: Array<Measured & { fraction: number; offeredPerSecond: number }>;
  bare: Measured;
  ratio: number;
}

async function main(): Promise<void> {
  await globalSetup();
  const run = currentTestRun();
  const port = await freePort();
  const api = `http://127.0.0.1:${port}`;
  // the producer as deployed (its bundle, built first when older than a source)
  const producer = spawnApp(
    'producer',
    {
      ...testRunEnv(run),
      MS_CLIENT_ID: 'email-core-bench',
      MS_CLIENT_SECRET: randomBytes(16).toString('hex'),
      JWT_SECRET: randomBytes(32).toString('hex'),
      TOKEN_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      PRODUCER_PORT: String(port),
      PUBLIC_BASE_URL: api,
      LOG_LEVEL: 'warn',
      // one address stands for Graph's many: counted in Redis on every request, never reached
      WEBHOOK_RATE_LIMIT_PER_MINUTE: String(100_000_000),
      // BENCH_WEBHOOK_CPU_PROF=<dir>: the producer profiles each measured run of ours (`profiled` below)
      ...(CPU_PROF_DIR
        ? {
            NODE_OPTIONS: `--require ${writeCpuProfilePreload(CPU_PROF_DIR, 'sigusr2')}`,
            CPU_PROFILE_DIR: CPU_PROF_DIR,
          }
        : {}),
    },
    { built: true },
  );
  const dataSource = createDataSource({ url: run.databaseUrl, poolSize: 2 });
  let bare: ChildProcess | undefined;
  const load1AtStart = os.loadavg()[0];
  try {
    await waitFor(
      async () => {
        if (producer.child.exitCode !== null) throw new Error(`producer exited: ${producer.output()}`);
        const r = await fetch(`${api}/health`, { signal: AbortSignal.timeout(3000) }).catch(() => undefined);
        return r?.status === 200 ? true : undefined;
      },
      { timeoutMs: 60000, intervalMs: 300, what: 'the producer to be healthy' },
    );
    await dataSource.initialize();
    const accounts = await subscribedAccounts(dataSource, SCENARIOS.includes('batch') ? BATCH_ITEMS : 1);
    // the producer's own CPU with no request at all (its pollers, consumers and timers): what every request's
    // share of CPU includes, and more of it per request the lower the rate
    const restBefore = cpuSeconds(producer.child.pid);
    await new Promise((r) => setTimeout(r, REST_S * 1000));
    const atRestCores = (cpuSeconds(producer.child.pid) - restBefore) / REST_S;
    const started = await startBare();
    bare = started.child;
    const ours = `${api}/api/v1/graph/notifications`;
    const topic = topicName(run.topicPrefix, Topics.mailboxPokes);

    // BENCH_WEBHOOK_CPU_PROF: a SIGUSR2 starts the producer's profiler, the next writes <pid>-<n>.cpuprofile
    const profiles: string[] = [];
    const profiled = async <T>(phase: string, run: () => Promise<T>): Promise<T> => {
      const pid = producer.child.pid;
      if (!CPU_PROF_DIR || pid === undefined) return run();
      process.kill(pid, 'SIGUSR2');
      try {
        return await run();
      } finally {
        process.kill(pid, 'SIGUSR2');
        profiles.push(`${path.join(CPU_PROF_DIR, `${pid}-${profiles.length + 1}.cpuprofile`)}: ${phase}`);
      }
    };

    const scenario = async (items: Subscribed[]): Promise<ScenarioResult> => {
      const body = JSON.stringify({
        value: items.map((a) => notificationItem(a.subscriptionId, a.clientState, a.userId)),
      });
      const before = await topicMessageCount(run.kafkaBrokers, topic);
      const first = await fetch(ours, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      if (first.status !== 202) throw new Error(`a valid notification was answered ${first.status}`);
      const warm = await load(ours, body, WARMUP_S, producer.child.pid);
      const measured = await profiled(`${items.length} item(s), closed loop`, () =>
        load(ours, body, DURATION_S, producer.child.pid),
      );
      // the latency Graph would see below saturation: half the rate just measured, evenly spaced
      const atRates: ScenarioResult['atRates'] = [];
      for (const fraction of FRACTIONS) {
        const rate = Math.max(1, Math.round(measured.requestsPerSecond * fraction));
        const m = await profiled(`${items.length} item(s), open loop at ${fraction}`, () =>
          loadAtRate(ours, body, DURATION_S, producer.child.pid, rate),
        );
        atRates.push({ fraction, offeredPerSecond: rate, ...m });
      }
      const published = (await topicMessageCount(run.kafkaBrokers, topic)) - before;
      // requests still in flight when autocannon stops a run are answered (and published) but not counted;
      // one message per account per 202 (every item of a POST is for another account)
      const counted =
        (1 + warm.status202 + measured.status202 + atRates.reduce((n, m) => n + m.status202, 0)) *
        items.length;
      await load(started.url, body, WARMUP_S, bare?.pid);
      const baseline = await load(started.url, body, DURATION_S, bare?.pid);
      return {
        items: items.length,
        bodyBytes: Buffer.byteLength(body),
        ours: {
          ...measured,
          kafkaMessagesPublished: published,
          countedAccepted: counted,
          inFlightAtStop: published - counted,
        },
        atRates,
        bare: baseline,
        ratio: Number((measured.requestsPerSecond / baseline.requestsPerSecond).toFixed(3)),
      };
    };

    process.stdout.write(
      `warming up (${WARMUP_S} s), then ${DURATION_S} s each, ${CONNECTIONS} connections; scenarios: ${SCENARIOS.join(', ')}\n`,
    );
    const single = SCENARIOS.includes('single') ? await scenario(accounts.slice(0, 1)) : undefined;
    const batch = SCENARIOS.includes('batch') ? await scenario(accounts.slice(0, BATCH_ITEMS)) : undefined;

    const rows = [
      ['server', 'requests/s', 'items/s', 'p50 ms', 'p99 ms', 'CPU µs/req', 'non-2xx', 'requests'],
    ];
    if (single) {
      rows.push(row('producer, 1 item/POST: verify → Kafka (acks all) → 202', single.ours, 1));
      for (const m of single.atRates) rows.push(row(atRateLabel(m), m, 1));
      rows.push(row('bare node http: 202 (same body)', single.bare, 1));
    }
    if (batch) {
      rows.push(
        row(`producer, ${BATCH_ITEMS} items/POST (${BATCH_ITEMS} accounts)`, batch.ours, BATCH_ITEMS),
      );
      for (const m of batch.atRates) rows.push(row(atRateLabel(m), m, BATCH_ITEMS));
      rows.push(row('bare node http: 202 (same body)', batch.bare, BATCH_ITEMS));
    }
    const results = {
      name: 'webhook',
      date: new Date().toISOString(),
      cores: os.cpus().length,
      load1AtStart: Number(load1AtStart.toFixed(2)),
      load1AtEnd: Number(os.loadavg()[0].toFixed(2)),
      producerAtRestCores: Number(atRestCores.toFixed(4)),
      connections: CONNECTIONS,
      durationSeconds: DURATION_S,
      // the headline figures stay where they were (scenario 1)
      ours: single?.ours,
      oursAtHalfRate: single?.atRates.find((m) => m.fraction === 0.5),
      oursAtRates: single?.atRates,
      bare: single?.bare,
      batch,
      ratio: single?.ratio ?? Number.NaN,
      batchRatio: batch?.ratio,
      batchItemsPerSecond: batch ? batch.ours.requestsPerSecond * BATCH_ITEMS : undefined,
    };
    for (const p of profiles) process.stdout.write(`CPU profile ${p}\n`);
    process.stdout.write(
      `producer at rest: ${(atRestCores * 100).toFixed(1)} % of a core (${REST_S} s, no requests)\n`,
    );
    report('webhook', rows, results);
    for (const [name, r] of [
      ['single', single],
      ['batch', batch],
    ] as const) {
      if (!r) continue;
      for (const m of [r.ours, ...r.atRates])
        if (m.non2xx + m.errors + m.timeouts > 0 || m.status202 !== m.requests)
          throw new Error(`${name}: not every request was accepted: ${JSON.stringify(m)}`);
      // two autocannon runs (warm-up, measured), each may stop with a request per connection in flight; the
      // open-loop run waits for every answer
      const m = r.ours;
      const inFlightBound = 2 * CONNECTIONS * r.items;
      if (m.inFlightAtStop < 0 || m.inFlightAtStop > inFlightBound)
        throw new Error(
          `${name}: the topic holds ${m.kafkaMessagesPublished} messages for ${m.countedAccepted} counted (at most ${inFlightBound} more in flight)`,
        );
    }
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
