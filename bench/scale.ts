/**
 * `npm run bench:scale [-- <accounts>]`: how many Outlook accounts one consumer and one producer carry (issue 20,
 * point 6): N linked mailboxes on the emulator (5 messages each; default 10,000, BENCH_SCALE_ACCOUNTS), measured at
 * each stage on the way (BENCH_SCALE_STAGES, default 1,000 then N) in the same run, the product staying up.
 *
 * 1. The product (`startProduct`: one producer, one consumer, each its `nest build` bundle as deployed, built first
 *    when older than a source) and a fresh emulator whose subscription lifetime cap is short
 *    (BENCH_SCALE_SUBSCRIPTION_MINUTES; by default long enough that N renewals per half-lifetime fit in Graph's
 *    write limit, 1,000 per 20 s), the reconciliation every BENCH_SCALE_RECONCILE_SECONDS (default 300).
 *    Consumer and producer RSS at rest before any link, Postgres size (every table of the run's database with its
 *    indexes and TOAST), Redis (MEMORY USAGE of every key under the run's prefix, and INFO used_memory over the
 *    cluster's masters, which other runs share).
 * 2. Per stage: the mailboxes (one tenant: the emulator's tenant is the address's domain, so every write counts
 *    against one app-and-tenant budget), the users (25 links each: the authorize limit is 30 per user in 10
 *    minutes; each signs up from its own loopback address, as users do from their own machines, since sign-up
 *    allows 20 per address a minute), every account linked through the real OAuth flow (`linkOutlook`: authorize,
 *    the emulator's sign-in form, our callback) BENCH_SCALE_LINK_CONCURRENCY at a time, then waited for: every
 *    account `synced` and holding a subscription (Postgres and the emulator agree). Then, at rest: RSS per account,
 *    Postgres and Redis bytes per account; one reconciliation sweep (the emulator's last delta page per mailbox:
 *    the sweep starts when the first quiet mailbox is read again and ends when every mailbox was) against its
 *    interval; and 500 changes a second (BENCH_SCALE_RATE) for 60 s (BENCH_SCALE_SECONDS) spread over 1,000
 *    of the accounts (BENCH_SCALE_CHANGED): the emulator's admin API marks a message read or unread "elsewhere",
 *    which notifies the producer's webhook; each change is timed from just before that request to the
 *    `mail.changed` naming the message on its owner's socket (one socket.io client per user, as the dashboard
 *    connects), with where the time went (to the webhook, to the event, to the socket) and the pokes consumer's
 *    lag (pokes published and not yet committed by its group, sampled each second).
 * 3. At the end: subscriptions renewed before expiry (every subscription row renewed at least once, none expired at
 *    the emulator, watched for up to one lifetime after the last one was created), 429s from the subscription
 *    service (and from Outlook's per-mailbox limits), the most subscription writes the emulator admitted in one
 *    20 s window.
 *
 * Baseline, in the same run: the first stage's per-account figures. `ratio` = consumer RSS per account at the
 * first stage / at the last (1: linear growth; above 1: better than linear). Linking stops once the stages have
 * spent BENCH_SCALE_LINK_BUDGET_SECONDS linking (default 3,600): then the last stage is measured where it got to,
 * and says so (`partial`). Other knobs: BENCH_SCALE_SYNC_WAIT_SECONDS, BENCH_SCALE_RENEWAL_WATCH_SECONDS,
 * BENCH_SCALE_DRAIN_SECONDS, BENCH_SCALE_SYNC_PARTITIONS, BENCH_SCALE_MESSAGES, BENCH_SCALE_LINK_CONCURRENCY;
 * BENCH_SCALE_APP_ENV="NAME=value ..." gives the producer and the consumer more settings (written to the results);
 * BENCH_SCALE_SWEEP=0 skips the reconciliation sweep's measurement (the sweeps still run on their interval);
 * BENCH_SCALE_CPU_PROF=<dir> writes the consumer's and the emulator's V8 CPU profiles of the sweep (from its claim to the last mailbox
 * read) and of each change phase (from the phase's first change to its stragglers' end), sampled every 1 ms, into
 * <dir> as `<pid>-<n>.cpuprofile` (a preload starts and stops the inspector's profiler on SIGUSR2: Node refuses
 * --cpu-prof in NODE_OPTIONS).
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Redis, { Cluster } from 'ioredis';
import { Client } from 'pg';
import { io, type Socket } from 'socket.io-client';
import { Agent, fetch as undiciFetch, Pool } from 'undici';
import { Kafka } from 'kafkajs';
import { ConsumerGroups, REALTIME_PATH, Topics, type DomainEvent } from '@email-core/contracts';
import globalSetup from '../libs/testing/src/jest/global-setup';
import globalTeardown from '../libs/testing/src/jest/global-teardown';
import { linkOutlook, startProduct, type RunningProduct } from '../libs/testing/src/product';
import { parseExposition } from '../libs/metrics/src/exposition';
import { writeCpuProfilePreload } from '../scripts/cpu-profile-preload';
import { currentTestRun } from '../libs/testing/src/test-run';
import { cpuSeconds, cpuSnapshot, cpuSplit, procStatus, productCpuGroups } from './proc';
import { report } from './report';
import { withEmulatorCa } from './with-emulator-ca';

const args = process.argv.slice(2);
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const ACCOUNTS = Number(args.find((a) => /^\d+$/.test(a)) ?? env('BENCH_SCALE_ACCOUNTS', 10_000));
const STAGES = [
  ...new Set(
    (process.env.BENCH_SCALE_STAGES ?? `${Math.min(1000, ACCOUNTS)},${ACCOUNTS}`)
      .split(',')
      .map(Number)
      .filter((n) => n > 0 && n <= ACCOUNTS),
  ),
].sort((a, b) => a - b);
const MESSAGES = env('BENCH_SCALE_MESSAGES', 5);
const CHANGED = env('BENCH_SCALE_CHANGED', 1000);
/** changes per second, one phase per rate in this order (e.g. `100,500` finds the knee below the aim) */
const RATES = (process.env.BENCH_SCALE_RATE ?? '500')
  .split(',')
  .map(Number)
  .filter((r) => r > 0);
const SECONDS = env('BENCH_SCALE_SECONDS', 60);
const LINK_CONCURRENCY = env('BENCH_SCALE_LINK_CONCURRENCY', 16);
const LINK_BUDGET_MS = env('BENCH_SCALE_LINK_BUDGET_SECONDS', 3600) * 1000;
const RECONCILE_SECONDS = env('BENCH_SCALE_RECONCILE_SECONDS', 300);
/** how long a stage waits for its accounts to be synced and subscribed after the last link */
// first syncs of 5-message mailboxes run at ~6 a second on 2 cores, slower than linking (~30 a second): 10,000
// need ~1,700 s after the last link
const SYNC_WAIT_MS = env('BENCH_SCALE_SYNC_WAIT_SECONDS', 2400) * 1000;
/** the renewal watch at the end: at most this long (it also ends one lifetime after the last subscription) */
const RENEWAL_WATCH_MS = env('BENCH_SCALE_RENEWAL_WATCH_SECONDS', 3600) * 1000;
/** after a change phase, how long the consumer may take to work off what it queued before the next phase */
const DRAIN_MS = env('BENCH_SCALE_DRAIN_SECONDS', 180) * 1000;
/**
 * the consumer's SYNC_CONCURRENT_PARTITIONS: the stack's topics have 6 partitions and the default reads 3 at once,
 * each one mailbox at a time; a deployment of thousands sets it to its partition count, and so does this bench
 */
const SYNC_PARTITIONS = env('BENCH_SCALE_SYNC_PARTITIONS', 6);
/** measure a reconciliation sweep at each stage (0: skip it; the sweeps still run) */
const SWEEP = process.env.BENCH_SCALE_SWEEP !== '0';
/**
 * more settings for the producer and the consumer, `NAME=value` separated by spaces (unset: the product's defaults),
 * e.g. `BENCH_SCALE_APP_ENV="NOTIFY_CONCURRENT_ROUNDS=64 DATABASE_POOL_SIZE=20"`
 */
const APP_ENV: Record<string, string> = Object.fromEntries(
  (process.env.BENCH_SCALE_APP_ENV ?? '')
    .split(/\s+/)
    .filter(Boolean)
    .map((kv) => {
      const eq = kv.indexOf('=');
      if (eq <= 0) throw new Error(`BENCH_SCALE_APP_ENV: expected NAME=value, got ${kv}`);
      return [kv.slice(0, eq), kv.slice(eq + 1)];
    }),
);
/** where the consumer's CPU profile of each change phase goes (unset: no profile) */
const CPU_PROF_DIR = process.env.BENCH_SCALE_CPU_PROF;
/** Graph's subscription write limit per app and tenant */
const WRITES_PER_20S = 1000;
/**
 * The emulator's lifetime cap: renewing N subscriptions every half-lifetime must fit in the write limit (N / 50
 * per second), with room for twice that
 */
const SUBSCRIPTION_MINUTES = env(
  'BENCH_SCALE_SUBSCRIPTION_MINUTES',
  Math.max(3, Math.ceil((2 * 2 * ACCOUNTS) / (WRITES_PER_20S / 20) / 60)),
);
const LINKS_PER_USER = 25;
const PASSWORD = 'correct horse battery staple';
const DOMAIN = 'scale.example';

const MB = (bytes: number) => `${(bytes / 1048576).toFixed(0)} MB`;
const KB = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (m: string) => process.stderr.write(`[scale ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
const secondsSince = (t0: number) => Number(((performance.now() - t0) / 1000).toFixed(1));

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted.length === 0
    ? NaN
    : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** runs `work` over `items`, `limit` at a time, until `until()` says stop; answers the failures */
async function eachLimit<T>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<void>,
  until: () => boolean = () => false,
): Promise<Array<{ item: T; error: string }>> {
  const failed: Array<{ item: T; error: string }> = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length && !until()) {
      const i = next++;
      await work(items[i], i).catch((err: unknown) =>
        failed.push({ item: items[i], error: err instanceof Error ? err.message : String(err) }),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return failed;
}

/** a process at rest: the median of ten RSS readings a second apart, its CPU share over them */
async function settled(pid: number | undefined): Promise<{ rss: number; cpu: number }> {
  const readings: number[] = [];
  const c0 = cpuSeconds(pid);
  const t0 = performance.now();
  for (let i = 0; i < 10; i++) {
    readings.push(procStatus(pid, 'VmRSS'));
    if (i < 9) await sleep(1000);
  }
  return { rss: percentile(readings, 50), cpu: (cpuSeconds(pid) - c0) / ((performance.now() - t0) / 1000) };
}

/** CPU seconds of the product's processes (and this one), to say where a phase's time went */
type CpuSnapshot = Record<'consumer' | 'producer' | 'emulator' | 'bench', number>;
function cpuOf(product: RunningProduct): CpuSnapshot {
  const self = process.cpuUsage();
  return {
    consumer: cpuSeconds(product.consumer.child.pid),
    producer: cpuSeconds(product.producer.child.pid),
    emulator: cpuSeconds(product.emulator.app.child.pid),
    bench: (self.user + self.system) / 1e6,
  };
}
/** each process's share of a core over a phase */
function cpuShares(a: CpuSnapshot, b: CpuSnapshot, seconds: number): CpuSnapshot {
  const share = (k: keyof CpuSnapshot) => Number(((b[k] - a[k]) / seconds).toFixed(2));
  return {
    consumer: share('consumer'),
    producer: share('producer'),
    emulator: share('emulator'),
    bench: share('bench'),
  };
}

/** waits until a process uses less than `share` of a core over `windowMs` (what a phase queued is done) */
async function waitQuiet(pid: number | undefined, share: number, windowMs: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c0 = cpuSeconds(pid);
    await sleep(windowMs);
    if ((cpuSeconds(pid) - c0) / (windowMs / 1000) < share || Date.now() > deadline) return;
  }
}

// ---- users: each from its own loopback address ----

const agents = new Map<string, Agent>();
function agentFor(u: number): Agent {
  const address = `127.0.${1 + Math.floor(u / 250)}.${2 + (u % 250)}`;
  let agent = agents.get(address);
  if (!agent) {
    // undici takes the source address at the top level: one under `connect` is ignored (every user then signed up
    // and in from 127.0.0.1, so the per-address limits of 20 a minute paced linking and the sockets' sign-ins)
    agent = new Agent({ localAddress: address });
    agents.set(address, agent);
  }
  return agent;
}

async function authCall(api: string, u: number, path: string, email: string): Promise<string> {
  for (;;) {
    const res = await undiciFetch(`${api}/api/v1/auth/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: PASSWORD }),
      dispatcher: agentFor(u),
    });
    const body = (await res.json()) as { accessToken?: string };
    if (res.status === 429) {
      await sleep(2000);
      continue;
    }
    if (!res.ok || !body.accessToken) throw new Error(`${path} -> ${res.status} ${JSON.stringify(body)}`);
    return body.accessToken;
  }
}

// ---- Redis and Postgres sizes ----

interface RedisSizes {
  /** MEMORY USAGE summed over every key under the run's prefix */
  prefixBytes: number;
  prefixKeys: number;
  /** INFO used_memory summed over the masters (shared with whatever else runs on the stack) */
  usedMemoryBytes: number;
}

async function redisSizes(prefix: string): Promise<RedisSizes> {
  const nodes = (process.env.REDIS_CLUSTER_NODES ?? '').split(',').filter(Boolean);
  const out: RedisSizes = { prefixBytes: 0, prefixKeys: 0, usedMemoryBytes: 0 };
  for (const node of nodes) {
    const [host, port] = node.split(':');
    const r = new Redis(Number(port), host, { lazyConnect: true, maxRetriesPerRequest: 2 });
    try {
      await r.connect();
      if (!/role:master/.test(await r.info('replication'))) continue;
      out.usedMemoryBytes += Number(/used_memory:(\d+)/.exec(await r.info('memory'))?.[1] ?? 0);
      let cursor = '0';
      do {
        const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length === 0) continue;
        const pipe = r.pipeline();
        for (const k of keys) pipe.memory('USAGE', k);
        for (const [err, bytes] of (await pipe.exec()) ?? []) {
          if (!err && typeof bytes === 'number') {
            out.prefixBytes += bytes;
            out.prefixKeys++;
          }
        }
      } while (cursor !== '0');
    } finally {
      r.disconnect();
    }
  }
  return out;
}

async function postgresBytes(db: Client): Promise<number> {
  const r = await db.query<{ bytes: string }>(
    `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint AS bytes
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')`,
  );
  return Number(r.rows[0].bytes);
}

// ---- the emulator's view ----

interface MailboxStats {
  requests: number;
  throttled: number;
  deltaPages: number;
  lastDeltaAt: number;
}
interface EmulatorStats {
  mailboxes: Record<string, MailboxStats>;
  subscriptionService: { requests: number; writes: number; throttled: number; maxWritesInWindow: number };
  notifications: { attempts: number; failed: number; slow: number; deliveredItems: number };
  rssBytes: number;
}
interface EmulatorSubscription {
  id: string;
  address: string;
  expirationDateTime: string;
  state: string;
}

const emulatorStats = (product: RunningProduct) =>
  product.emulator.admin<EmulatorStats>('GET', '/_emulator/stats');

async function emulatorSubscriptions(product: RunningProduct): Promise<EmulatorSubscription[]> {
  return (await product.emulator.admin<{ value: EmulatorSubscription[] }>('GET', '/_emulator/subscriptions'))
    .value;
}

// ---- linking ----

/** "synced": the account's first sync completed (the catch-up round after its subscription leaves the status alone) */
interface Linked {
  address: string;
  accountId: string;
  user: number;
}

async function subscriptionCounts(db: Client, ids: string[]) {
  const r = await db.query<{ synced: number; subscribed: number; renewed: number }>(
    `SELECT count(*) FILTER (WHERE a.sync_completed_at IS NOT NULL)::int AS synced,
            count(s.account_id)::int AS subscribed,
            count(s.renewed_at)::int AS renewed
       FROM mail_accounts a LEFT JOIN graph_subscriptions s ON s.account_id = a.id
      WHERE a.id = ANY($1::uuid[])`,
    [ids],
  );
  return r.rows[0];
}

// ---- the changes ----

/**
 * The live-change consumer's lag, sampled every second while `until` is false: pokes published to the pokes topic
 * and not yet committed by its group (`ConsumerGroups.notifications`), summed over the partitions.
 */
async function samplePokesLag(until: () => boolean): Promise<number[]> {
  const run = currentTestRun();
  const kafka = new Kafka({ clientId: 'bench-scale-lag', brokers: run.kafkaBrokers, logLevel: 0 });
  const admin = kafka.admin();
  await admin.connect();
  const topic = `${run.topicPrefix}${Topics.mailboxPokes}`;
  const groupId = `${run.topicPrefix}${ConsumerGroups.notifications}`;
  const samples: number[] = [];
  try {
    while (!until()) {
      const [ends, [committed]] = await Promise.all([
        admin.fetchTopicOffsets(topic),
        admin.fetchOffsets({ groupId, topics: [topic] }),
      ]);
      const at = new Map(committed.partitions.map((p) => [p.partition, Number(p.offset)]));
      samples.push(
        ends.reduce((sum, p) => sum + Math.max(0, Number(p.high) - Math.max(0, at.get(p.partition) ?? 0)), 0),
      );
      await sleep(1000);
    }
  } finally {
    await admin.disconnect();
  }
  return samples;
}

interface ChangeResult {
  rate: number;
  /** p50 / p95 of each hop (ms): admin request -> webhook accepted, -> event made, -> on the socket */
  hopsMs: Record<'toWebhook' | 'webhookToEvent' | 'eventToSocket', { p50: number; p95: number }>;
  /**
   * matched changes whose event split into hops, and those not split: an event's `notifiedAt` is the earliest
   * notification its round answered (rounds coalesce an account's pokes), so when that predates the change's own
   * request the change's webhook time is not known (until session 31 those went in too, as negative hops)
   */
  hopsSplit: { split: number; notSplit: number };
  /** each process's share of a core from the first change to the last event */
  cpu: CpuSnapshot;
  /**
   * CPU per change sent (µs) of every process group on the machine over the same span (Postgres with its
   * replica's replay, Kafka, Redis, the rest), and every core's busy share (`machineBusy`, 1 = all cores)
   */
  cpuPerChangeUs: Record<string, number>;
  machineBusy: number;
  /**
   * rounds the consumer completed from the first change to the last event (its `email_core_mirror_rounds_total`:
   * a round is one account's pokes coalesced under its mailbox lock), the changes sent per round, and the whole
   * machine's CPU per round (µs); null when the consumer's GET /metrics did not answer
   */
  rounds: number | null;
  changesPerRound: number | null;
  cpuPerRoundUs: number | null;
  /** pokes not yet committed by the live-change consumer, sampled each second from the first change: p50 / max */
  pokesLag: { p50: number; max: number };
  sent: number;
  answered: number;
  failedRequests: number;
  achievedPerSecond: number;
  latencies: number[];
  missed: number;
  accounts: number;
  sockets: number;
}

async function runChanges(
  rate: number,
  product: RunningProduct,
  linked: Linked[],
  userEmail: (u: number) => string,
): Promise<ChangeResult> {
  const n = Math.min(CHANGED, linked.length);
  const chosen = Array.from({ length: n }, (_, k) => linked[Math.floor((k * linked.length) / n)]);
  // their messages, as the emulator names them (the immutable id is what the API and the events carry)
  const messages = new Map<string, Array<{ id: string; isRead: boolean }>>();
  await eachLimit(chosen, 16, async (a) => {
    const exp = await product.emulator.admin<{ messages: Array<{ immutableId: string; isRead: boolean }> }>(
      'GET',
      `/_emulator/mailboxes/${encodeURIComponent(a.address)}/export?bodies=false`,
    );
    messages.set(
      a.accountId,
      exp.messages.map((m) => ({ id: m.immutableId, isRead: m.isRead })),
    );
  });
  // one socket per user, as the dashboard connects (a fresh sign-in: the link-time tokens have expired)
  const users = [...new Set(chosen.map((a) => a.user))];
  const pending = new Map<string, number[]>();
  const latencies: number[] = [];
  /** where the time went, per matched event: admin request -> webhook accepted -> event made -> on the socket */
  const hops = { toWebhook: [] as number[], webhookToEvent: [] as number[], eventToSocket: [] as number[] };
  const hopsSplit = { split: 0, notSplit: 0 };
  const sockets: Socket[] = [];
  await eachLimit(users, 8, async (u) => {
    const token = await authCall(product.api, u, 'signin', userEmail(u));
    const socket = io(product.api, { path: REALTIME_PATH, auth: { token }, transports: ['websocket'] });
    socket.on('mail.changed', (event: DomainEvent) => {
      const at = Date.now();
      if (event.type !== 'mail.changed') return;
      for (const c of event.changes) {
        const key = `${event.accountId}|${c.messageId}`;
        const waiting = pending.get(key);
        if (!waiting) continue;
        for (const sentAt of waiting) latencies.push(at - sentAt);
        pending.delete(key);
        if (event.notifiedAt) {
          const notified = Date.parse(event.notifiedAt);
          const made = Date.parse(event.at);
          const requested = Math.min(...waiting);
          // the round's first notification came after this change's request: the change's own came at or after
          // it, so "to webhook" is at least this long and "to event" at most (both exact for a round of one poke)
          if (notified >= requested) {
            hopsSplit.split += 1;
            hops.toWebhook.push(notified - requested);
            hops.webhookToEvent.push(made - notified);
            hops.eventToSocket.push(at - made);
          } else hopsSplit.notSplit += 1;
        }
      }
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    sockets.push(socket);
  });
  log(`changes: ${users.length} sockets for ${n} accounts; ${rate}/s for ${SECONDS} s`);
  const pool = new Pool(product.emulator.origin, { connections: 32, pipelining: 1 });
  const total = rate * SECONDS;
  let sent = 0;
  let answered = 0;
  let failedRequests = 0;
  const inflight = new Set<Promise<void>>();
  const rounds0 = await roundsDone(product);
  const cpu0 = cpuOf(product);
  const machine0 = cpuSnapshot();
  let sampling = true;
  const lag = samplePokesLag(() => !sampling);
  const t0 = performance.now();
  const send = (k: number) => {
    const account = chosen[k % n];
    const list = messages.get(account.accountId) ?? [];
    if (list.length === 0) return;
    const msg = list[Math.floor(k / n) % list.length];
    msg.isRead = !msg.isRead;
    const key = `${account.accountId}|${msg.id}`;
    const sentAt = Date.now();
    // waiting from before the request: its event may come back before the admin API's answer does
    const waiting = pending.get(key);
    if (waiting) waiting.push(sentAt);
    else pending.set(key, [sentAt]);
    const unwait = () => {
      const w = pending.get(key);
      const i = w ? w.indexOf(sentAt) : -1;
      if (w && i >= 0) w.splice(i, 1);
      if (w && w.length === 0) pending.delete(key);
    };
    const p = pool
      .request({
        method: 'PATCH',
        path: `/_emulator/mailboxes/${encodeURIComponent(account.address)}/messages/${encodeURIComponent(msg.id)}`,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ isRead: msg.isRead }),
      })
      .then(async (res) => {
        await res.body.dump();
        if (res.statusCode >= 300) {
          failedRequests++;
          unwait();
        } else answered++;
      })
      .catch(() => {
        failedRequests++;
        unwait();
      })
      .finally(() => inflight.delete(p));
    inflight.add(p);
    sent++;
  };
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate));
    while (sent < due) send(sent);
    await sleep(5);
  }
  await Promise.all(inflight);
  const elapsed = (performance.now() - t0) / 1000;
  // stragglers: up to 15 s for the last events
  const quiet = Date.now();
  while (pending.size > 0 && Date.now() - quiet < 15_000) await sleep(200);
  const cpu = cpuShares(cpu0, cpuOf(product), (performance.now() - t0) / 1000);
  const split = cpuSplit(
    machine0,
    cpuSnapshot(),
    productCpuGroups({
      consumer: product.consumer.child.pid,
      producer: product.producer.child.pid,
      emulator: product.emulator.app.child.pid,
    }),
  );
  const cpuPerChangeUs = Object.fromEntries(
    Object.entries({ ...split.groups, other: split.other, all: split.machine }).map(([k, v]) => [
      k,
      Math.round((v * 1e6) / Math.max(1, sent)),
    ]),
  );
  const machineBusy = Number((split.machine / Math.max(0.001, split.available)).toFixed(2));
  const rounds1 = await roundsDone(product);
  const rounds = rounds0 === undefined || rounds1 === undefined ? null : rounds1 - rounds0;
  sampling = false;
  const lagSamples = await lag;
  let missed = 0;
  for (const w of pending.values()) missed += w.length;
  for (const s of sockets) s.disconnect();
  await pool.close();
  const hop = (xs: number[]) => ({ p50: percentile(xs, 50), p95: percentile(xs, 95) });
  return {
    rate,
    hopsMs: {
      toWebhook: hop(hops.toWebhook),
      webhookToEvent: hop(hops.webhookToEvent),
      eventToSocket: hop(hops.eventToSocket),
    },
    hopsSplit,
    cpu,
    cpuPerChangeUs,
    machineBusy,
    rounds,
    changesPerRound: rounds ? Number((sent / rounds).toFixed(2)) : null,
    cpuPerRoundUs: rounds ? Math.round((split.machine * 1e6) / rounds) : null,
    pokesLag: { p50: percentile(lagSamples, 50), max: percentile(lagSamples, 100) },
    sent,
    answered,
    failedRequests,
    achievedPerSecond: Number((sent / elapsed).toFixed(1)),
    latencies,
    missed,
    accounts: n,
    sockets: sockets.length,
  };
}

/**
 * The rounds the consumer has completed so far: its GET /metrics' `email_core_mirror_rounds_total`, summed over
 * providers and sources (the bench sets no METRICS_TOKEN: open). Undefined when it does not answer.
 */
async function roundsDone(product: RunningProduct): Promise<number | undefined> {
  try {
    const res = await undiciFetch(`http://127.0.0.1:${product.env.CONSUMER_PORT}/metrics`, {
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok) return undefined;
    return parseExposition(await res.text())
      .filter((x) => x.name === 'email_core_mirror_rounds_total')
      .reduce((n, x) => n + x.value, 0);
  } catch {
    return undefined;
  }
}

// ---- one reconciliation sweep ----

/**
 * When the reconciliation's turn was last claimed (ms since the epoch): the claim is `SET NX PX interval` on
 * `jobs:{reconcile}:<topic prefix>` under the run's key prefix, never released, so its PTTL says when it was taken.
 */
async function reconcileClaimedAt(cluster: Cluster, key: string): Promise<number | undefined> {
  const pttl = await cluster.pttl(key);
  return pttl > 0 ? Date.now() - (RECONCILE_SECONDS * 1000 - pttl) : undefined;
}

/**
 * Waits for the next reconciliation turn claimed after now, then until the emulator has served every mailbox a
 * delta page since (the round's folder reads). The sweep's time: from the claim to the last mailbox's delta page.
 */
async function reconcileSweep(
  product: RunningProduct,
  cluster: Cluster,
  claimKey: string,
  addresses: string[],
  /** called when the sweep's claim is seen and again when the sweep ends (the bounds of its CPU profile) */
  toggleProfile: () => Promise<void>,
): Promise<Sweep> {
  const t0 = Date.now();
  let start: number | undefined;
  while (Date.now() - t0 < RECONCILE_SECONDS * 1000 + 60_000) {
    const at = await reconcileClaimedAt(cluster, claimKey);
    if (at !== undefined && at > t0 - 500) {
      start = at;
      break;
    }
    await sleep(1000);
  }
  if (start === undefined) return { startedAfterS: NaN, sweepSeconds: null, reached: 0 };
  // CPU from the claim seen (within a second of it) to the last mailbox read, per account swept
  const cpu0 = cpuOf(product);
  let reached = 0;
  await toggleProfile();
  try {
    while (Date.now() - start < 2 * RECONCILE_SECONDS * 1000) {
      await sleep(3000);
      const { mailboxes } = await emulatorStats(product);
      const times = addresses.map((a) => mailboxes[a]?.lastDeltaAt ?? 0);
      reached = times.filter((t) => t >= start).length;
      if (reached === addresses.length) {
        const cpu1 = cpuOf(product);
        const msPerAccount = (k: 'consumer' | 'emulator') =>
          Number((((cpu1[k] - cpu0[k]) * 1000) / addresses.length).toFixed(1));
        return {
          startedAfterS: (start - t0) / 1000,
          sweepSeconds: (Math.max(...times) - start) / 1000,
          reached,
          cpuMsPerAccount: { consumer: msPerAccount('consumer'), emulator: msPerAccount('emulator') },
        };
      }
    }
  } finally {
    await toggleProfile();
  }
  return { startedAfterS: (start - t0) / 1000, sweepSeconds: null, reached };
}

interface Sweep {
  startedAfterS: number;
  sweepSeconds: number | null;
  reached: number;
  /** CPU milliseconds per account swept, from the claim to the last mailbox's read (a complete sweep only) */
  cpuMsPerAccount?: { consumer: number; emulator: number };
}

// ---- main ----

interface StageResult {
  target: number;
  linked: number;
  partial: boolean;
  linkSeconds: number;
  /** each process's share of a core while linking, and from the first link to all synced and subscribed */
  linkCpu: CpuSnapshot;
  linkToSubscribedCpu: CpuSnapshot;
  linkFailures: number;
  linkFailureSamples: string[];
  allSyncedAndSubscribedSeconds: number | null;
  synced: number;
  subscribed: number;
  consumerRssBytes: number;
  producerRssBytes: number;
  consumerRssPerAccountBytes: number;
  producerRssPerAccountBytes: number;
  consumerCpuAtRest: number;
  postgresBytesPerAccount: number;
  redisPrefixBytesPerAccount: number;
  redisKeysPerAccount: number;
  redisUsedMemoryDeltaPerAccount: number;
  reconcile: Sweep & {
    intervalSeconds: number;
    /** shares of a core from the wait's start to the sweep's end */
    cpu: CpuSnapshot;
  };
  changes: Array<
    Omit<ChangeResult, 'latencies'> & { p50Ms: number; p95Ms: number; p99Ms: number; maxMs: number }
  >;
  subscriptionService: EmulatorStats['subscriptionService'];
  outlook429s: number;
}

/** the CPU profile preload (SIGUSR2 starts the profiler, the next one writes it), written into `dir` */
function profilePreload(dir: string): string {
  return writeCpuProfilePreload(dir, 'sigusr2');
}

async function main(): Promise<void> {
  if (!Number.isInteger(ACCOUNTS) || ACCOUNTS < 1) throw new Error('usage: bench:scale [-- <accounts>]');
  await globalSetup();
  const run = currentTestRun();
  const tag = randomBytes(3).toString('hex');
  const address = (i: number) => `s${i}-${tag}@${DOMAIN}`;
  const userEmail = (u: number) => `scale-owner-${u}-${tag}@example.test`;
  const busyAtStart = process.env.BENCH_SCALE_MACHINE_NOTE ?? '';
  let product: RunningProduct | undefined;
  let db: Client | undefined;
  let cluster: Cluster | undefined;
  const runStart = performance.now();
  try {
    product = await startProduct({
      emulatorEnv: {
        EMULATOR_SUBSCRIPTION_MAX_MINUTES: String(SUBSCRIPTION_MINUTES),
        // the emulator profiled beside the consumer (its CPU shares the cores): the same preload, by NODE_OPTIONS
        ...(CPU_PROF_DIR
          ? {
              NODE_OPTIONS: `--require ${profilePreload(CPU_PROF_DIR)}`,
              CPU_PROFILE_DIR: path.resolve(CPU_PROF_DIR),
            }
          : {}),
      },
      appEnv: {
        LOG_LEVEL: 'warn',
        RECONCILE_INTERVAL_SECONDS: String(RECONCILE_SECONDS),
        SYNC_CONCURRENT_PARTITIONS: String(SYNC_PARTITIONS),
        ...APP_ENV,
        ...(CPU_PROF_DIR ? { CPU_PROFILE_DIR: path.resolve(CPU_PROF_DIR) } : {}),
      },
      // both apps as deployed (their `nest build` bundles, built first when older than a source), whatever the
      // bundles' mtimes: from the sources they start with ~80 MB more and other CPU, which the per-account figures
      // would carry
      built: true,
      consumerSpawn: CPU_PROF_DIR ? { nodeArgs: ['--require', profilePreload(CPU_PROF_DIR)] } : undefined,
    });
    const consumerPid = product.consumer.child.pid;
    // BENCH_SCALE_CPU_PROF: the consumer's preload starts its profiler at a SIGUSR2 and writes it at the next one;
    // two signals sent close together reach its handler once (a sweep's end and the change phase's start, at 100
    // accounts), so each toggle waits a little before the next can be sent
    const toggleProfile = async (): Promise<void> => {
      if (!CPU_PROF_DIR) return;
      process.kill(consumerPid!, 'SIGUSR2');
      process.kill(product!.emulator.app.child.pid!, 'SIGUSR2');
      await sleep(250);
    };
    const producerPid = product.producer.child.pid;
    db = new Client({ connectionString: product.databaseUrl });
    await db.connect();
    cluster = new Cluster(
      (process.env.REDIS_CLUSTER_NODES ?? '').split(',').map((n) => {
        const [host, port] = n.split(':');
        return { host, port: Number(port) };
      }),
    );
    const claimKey = `${run.redisKeyPrefix}jobs:{reconcile}:${run.topicPrefix}`;
    await sleep(10_000); // past the start (topics, assignment, the first sweeps)
    const consumer0 = await settled(consumerPid);
    const producer0 = await settled(producerPid);
    const pg0 = await postgresBytes(db);
    const redis0 = await redisSizes(run.redisKeyPrefix);
    log(
      `at rest before linking: consumer ${MB(consumer0.rss)}, producer ${MB(producer0.rss)}, ` +
        `Postgres ${MB(pg0)}, Redis ${redis0.prefixKeys} keys; subscription cap ${SUBSCRIPTION_MINUTES} min`,
    );

    const linked: Linked[] = [];
    const tokens = new Map<number, Promise<string>>();
    const tokenOf = (u: number) => {
      let t = tokens.get(u);
      if (!t) {
        t = authCall(product!.api, u, 'signup', userEmail(u));
        tokens.set(u, t);
      }
      return t;
    };
    const stages: StageResult[] = [];
    const linkStart = performance.now();
    let lastCreated = performance.now();
    let budgetOut = false;
    /** time spent linking so far, over the stages (the budget counts only that) */
    let linkSpentMs = 0;
    let linkFailures: Array<{ item: number; error: string }> = [];
    for (const target of STAGES) {
      const from = linked.length + linkFailures.length;
      const indices = Array.from({ length: Math.max(0, target - from) }, (_, k) => from + k);
      // 1. the mailboxes
      const m0 = performance.now();
      await eachLimit(indices, 16, async (i) => {
        await product!.emulator.admin('POST', '/_emulator/mailboxes', {
          address: address(i),
          displayName: `Scale ${i}`,
          seed: { messages: MESSAGES, folders: 0, seed: i },
        });
      });
      log(`stage ${target}: ${indices.length} mailboxes in ${secondsSince(m0)} s; linking`);
      // 2. linked through the real flow
      const l0 = performance.now();
      const linkCpu0 = cpuOf(product);
      let progress = performance.now();
      const failed = await eachLimit(
        indices,
        LINK_CONCURRENCY,
        async (i) => {
          const u = Math.floor(i / LINKS_PER_USER);
          const dashboard = await linkOutlook(product!, await tokenOf(u), address(i));
          const accountId = /linked=([0-9a-f-]{36})/.exec(dashboard)?.[1];
          if (!accountId) throw new Error(`no account id in ${dashboard}`);
          linked.push({ address: address(i), accountId, user: u });
          if (performance.now() - progress > 15_000) {
            progress = performance.now();
            log(
              `linked ${linked.length} (${(linked.length / secondsSince(linkStart)).toFixed(1)}/s overall)`,
            );
          }
        },
        () => {
          if (linkSpentMs + (performance.now() - l0) > LINK_BUDGET_MS) budgetOut = true;
          return budgetOut;
        },
      );
      linkFailures = [...linkFailures, ...failed];
      const linkSeconds = secondsSince(l0);
      linkSpentMs += performance.now() - l0;
      const linkCpu = cpuShares(linkCpu0, cpuOf(product), linkSeconds);
      log(`stage ${target}: ${linked.length} linked (${failed.length} failed) in ${linkSeconds} s`);
      // 3. every account synced and subscribed
      const ids = linked.map((a) => a.accountId);
      const w0 = performance.now();
      let counts = await subscriptionCounts(db, ids);
      let lastLog = 0;
      const waitDeadline = performance.now() + SYNC_WAIT_MS;
      while (
        (counts.synced < ids.length || counts.subscribed < ids.length) &&
        performance.now() < waitDeadline
      ) {
        await sleep(2000);
        const c = await subscriptionCounts(db, ids);
        if (c.subscribed > counts.subscribed) lastCreated = performance.now();
        counts = c;
        if (performance.now() - lastLog > 15_000) {
          lastLog = performance.now();
          log(`stage ${target}: ${counts.synced} synced, ${counts.subscribed} subscribed of ${ids.length}`);
        }
      }
      const allDone = counts.synced === ids.length && counts.subscribed === ids.length;
      const doneSeconds = allDone ? secondsSince(w0) : null;
      const syncCpu = cpuShares(linkCpu0, cpuOf(product), secondsSince(l0));
      log(
        `stage ${target}: ${counts.synced} synced, ${counts.subscribed} subscribed (${doneSeconds ?? 'timeout'} s)`,
      );
      // 4. at rest: memory and sizes
      await sleep(15_000);
      const consumer = await settled(consumerPid);
      const producer = await settled(producerPid);
      const pg = await postgresBytes(db);
      const redis = await redisSizes(run.redisKeyPrefix);
      const n = linked.length;
      // 5. one reconciliation sweep
      log(`stage ${target}: waiting for a reconciliation sweep (interval ${RECONCILE_SECONDS} s)`);
      const sweepCpu0 = cpuOf(product);
      const sweepT0 = performance.now();
      const sweep = SWEEP
        ? await reconcileSweep(
            product,
            cluster,
            claimKey,
            linked.map((a) => a.address),
            toggleProfile,
          )
        : ({ startedAfterS: NaN, sweepSeconds: null, reached: 0 } satisfies Sweep);
      const sweepCpu = cpuShares(sweepCpu0, cpuOf(product), secondsSince(sweepT0));
      log(`stage ${target}: sweep ${JSON.stringify(sweep)}`);
      // 6. the changes
      const changes: StageResult['changes'] = [];
      for (const rate of RATES) {
        await toggleProfile();
        const { latencies, ...rest } = await runChanges(rate, product, linked, userEmail);
        await toggleProfile();
        changes.push({
          ...rest,
          p50Ms: percentile(latencies, 50),
          p95Ms: percentile(latencies, 95),
          p99Ms: percentile(latencies, 99),
          maxMs: percentile(latencies, 100),
        });
        log(`stage ${target}: changes at ${rate}/s: ${JSON.stringify(changes.at(-1))}`);
        // what a phase left queued is worked off before the next one (or the next stage) starts
        await waitQuiet(consumerPid, consumer0.cpu + 0.1, 5000, DRAIN_MS);
      }
      const stats = await emulatorStats(product);
      const outlook429s = Object.values(stats.mailboxes).reduce((s, m) => s + m.throttled, 0);
      const stage: StageResult = {
        target,
        linked: n,
        partial: n < target,
        linkSeconds,
        linkCpu,
        linkToSubscribedCpu: syncCpu,
        linkFailures: linkFailures.length,
        linkFailureSamples: linkFailures.slice(0, 3).map((f) => `${f.item}: ${f.error}`),
        allSyncedAndSubscribedSeconds: doneSeconds,
        synced: counts.synced,
        subscribed: counts.subscribed,
        consumerRssBytes: consumer.rss,
        producerRssBytes: producer.rss,
        consumerRssPerAccountBytes: Math.round((consumer.rss - consumer0.rss) / n),
        producerRssPerAccountBytes: Math.round((producer.rss - producer0.rss) / n),
        consumerCpuAtRest: Number(consumer.cpu.toFixed(3)),
        postgresBytesPerAccount: Math.round((pg - pg0) / n),
        redisPrefixBytesPerAccount: Math.round((redis.prefixBytes - redis0.prefixBytes) / n),
        redisKeysPerAccount: Number(((redis.prefixKeys - redis0.prefixKeys) / n).toFixed(2)),
        redisUsedMemoryDeltaPerAccount: Math.round((redis.usedMemoryBytes - redis0.usedMemoryBytes) / n),
        reconcile: { intervalSeconds: RECONCILE_SECONDS, ...sweep, cpu: sweepCpu },
        changes,
        subscriptionService: stats.subscriptionService,
        outlook429s,
      };
      stages.push(stage);
      log(`stage ${target}: ${JSON.stringify(stage)}`);
      if (budgetOut) {
        log(`link budget (${LINK_BUDGET_MS / 1000} s) spent: stopping at ${n} accounts`);
        break;
      }
    }

    // renewals: every subscription renewed at least once, none expired, watched up to one lifetime past the last
    // creation
    const ids = linked.map((a) => a.accountId);
    const lifetimeMs = SUBSCRIPTION_MINUTES * 60_000;
    let expiredSeen = 0;
    let renewed = 0;
    const r0 = performance.now();
    for (;;) {
      const subs = await emulatorSubscriptions(product);
      expiredSeen = Math.max(expiredSeen, subs.filter((s) => s.state !== 'active').length);
      renewed = (await subscriptionCounts(db, ids)).renewed;
      if (renewed >= ids.length) break;
      if (performance.now() - lastCreated > lifetimeMs + 60_000) break;
      if (performance.now() - r0 > RENEWAL_WATCH_MS) break;
      log(`renewals: ${renewed}/${ids.length} renewed, ${expiredSeen} not active at the emulator`);
      await sleep(15_000);
    }
    const finalStats = await emulatorStats(product);
    const subsAtEnd = await emulatorSubscriptions(product);
    const first = stages[0];
    const last = stages[stages.length - 1];
    const ratio = Number((first.consumerRssPerAccountBytes / last.consumerRssPerAccountBytes).toFixed(3));
    const results = {
      name: 'scale',
      date: new Date().toISOString(),
      cores: (await import('node:os')).cpus().length,
      machine: busyAtStart || 'shared with other agents (see the run notes)',
      accounts: ACCOUNTS,
      stages: STAGES,
      messagesPerMailbox: MESSAGES,
      subscriptionCapMinutes: SUBSCRIPTION_MINUTES,
      reconcileIntervalSeconds: RECONCILE_SECONDS,
      syncConcurrentPartitions: SYNC_PARTITIONS,
      appEnv: APP_ENV,
      changeRates: RATES,
      changeSeconds: SECONDS,
      linkConcurrency: LINK_CONCURRENCY,
      atRestBeforeLinking: {
        consumerRssBytes: consumer0.rss,
        producerRssBytes: producer0.rss,
        postgresBytes: pg0,
        redisPrefixBytes: redis0.prefixBytes,
      },
      perStage: stages,
      renewals: {
        renewedRows: renewed,
        of: ids.length,
        watchedSeconds: secondsSince(r0),
        notActiveAtEmulatorMax: expiredSeen,
        activeAtEnd: subsAtEnd.filter((s) => s.state === 'active').length,
      },
      subscriptionService: finalStats.subscriptionService,
      outlook429s: Object.values(finalStats.mailboxes).reduce((s, m) => s + m.throttled, 0),
      runSeconds: secondsSince(runStart),
      baseline: `the first stage (${first.linked} accounts) of the same run: its per-account figures`,
      ratio,
    };
    const col = (f: (s: StageResult) => string) => stages.map(f);
    const rows = [
      ['measure', ...stages.map((s) => `${s.linked} accounts${s.partial ? ` (of ${s.target})` : ''}`)],
      ['link (real OAuth flow)', ...col((s) => `${s.linkSeconds} s, ${s.linkFailures} failed`)],
      [
        'all synced + subscribed after links',
        ...col((s) =>
          s.allSyncedAndSubscribedSeconds === null ? 'NOT all' : `+${s.allSyncedAndSubscribedSeconds} s`,
        ),
      ],
      [
        'consumer RSS (per account)',
        ...col((s) => `${MB(s.consumerRssBytes)} (${KB(s.consumerRssPerAccountBytes)})`),
      ],
      [
        'producer RSS (per account)',
        ...col((s) => `${MB(s.producerRssBytes)} (${KB(s.producerRssPerAccountBytes)})`),
      ],
      ['consumer CPU at rest', ...col((s) => `${(s.consumerCpuAtRest * 100).toFixed(1)} % of a core`)],
      ['Postgres per account', ...col((s) => KB(s.postgresBytesPerAccount))],
      [
        'Redis per account (keys)',
        ...col((s) => `${KB(s.redisPrefixBytesPerAccount)} (${s.redisKeysPerAccount})`),
      ],
      [
        `reconcile sweep (interval ${RECONCILE_SECONDS} s)`,
        ...col((s) =>
          s.reconcile.sweepSeconds === null
            ? `NOT done: ${s.reconcile.reached}/${s.linked}`
            : `${s.reconcile.sweepSeconds.toFixed(0)} s`,
        ),
      ],
      [
        '  CPU waiting + sweep: consumer / emulator',
        ...col((s) => `${s.reconcile.cpu.consumer} / ${s.reconcile.cpu.emulator}`),
      ],
      [
        '  CPU per account swept: consumer / emulator',
        ...col((s) =>
          s.reconcile.cpuMsPerAccount
            ? `${s.reconcile.cpuMsPerAccount.consumer} / ${s.reconcile.cpuMsPerAccount.emulator} ms`
            : '–',
        ),
      ],
      ...RATES.flatMap((rate, k) => [
        [
          `${rate}/s for ${SECONDS} s: sent, achieved`,
          ...col(
            (s) =>
              `${s.changes[k].sent} over ${s.changes[k].accounts} accounts, ${s.changes[k].achievedPerSecond}/s`,
          ),
        ],
        [
          `  change -> socket p50 / p95 / p99`,
          ...col((s) => `${s.changes[k].p50Ms} / ${s.changes[k].p95Ms} / ${s.changes[k].p99Ms} ms`),
        ],
        [`  missed (15 s)`, ...col((s) => String(s.changes[k].missed))],
        [
          `  rounds, changes per round, CPU µs per round`,
          ...col((s) => {
            const c = s.changes[k];
            return c.rounds === null ? '–' : `${c.rounds}, ${c.changesPerRound}, ${c.cpuPerRoundUs}`;
          }),
        ],
        [
          `  pokes consumer lag p50 / max`,
          ...col((s) => `${s.changes[k].pokesLag.p50} / ${s.changes[k].pokesLag.max}`),
        ],
        [
          `  p95 per hop: to webhook / to event / to socket`,
          ...col((s) => {
            const { hopsMs: h, hopsSplit: n } = s.changes[k];
            return `${h.toWebhook.p95} / ${h.webhookToEvent.p95} / ${h.eventToSocket.p95} ms (${n.split} of ${n.split + n.notSplit})`;
          }),
        ],
        [
          `  CPU consumer / producer / emulator`,
          ...col(
            (s) =>
              `${s.changes[k].cpu.consumer} / ${s.changes[k].cpu.producer} / ${s.changes[k].cpu.emulator}`,
          ),
        ],
        [
          `  CPU µs per change (cores busy)`,
          ...col(
            (s) =>
              Object.entries(s.changes[k].cpuPerChangeUs)
                .map(([g, v]) => `${g} ${v}`)
                .join(', ') + ` (${Math.round(s.changes[k].machineBusy * 100)} %)`,
          ),
        ],
      ]),
      [
        'subscription writes, 429s, most writes / 20 s',
        ...col(
          (s) =>
            `${s.subscriptionService.writes}, ${s.subscriptionService.throttled}, ${s.subscriptionService.maxWritesInWindow}`,
        ),
      ],
      [
        'renewed before expiry (at the end)',
        ...col((s) => (s === last ? `${renewed}/${ids.length} renewed, ${expiredSeen} expired` : '')),
      ],
      ['RSS per account: first stage / last', ...col((s) => (s === last ? String(ratio) : ''))],
    ];
    report('scale', rows, results);
  } finally {
    await db?.end().catch(() => undefined);
    cluster?.disconnect();
    await product?.stop();
    for (const a of agents.values()) await a.close().catch(() => undefined);
    await globalTeardown();
  }
}

withEmulatorCa();
main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
