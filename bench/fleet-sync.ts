/**
 * `npm run bench:fleet-sync [-- <mailboxes> [<messages>]]`: many mailboxes linked at once (issue 20, point 3). 100
 * mailboxes (BENCH_FLEET_MAILBOXES) of 2,000 messages each (BENCH_FLEET_MESSAGES) on the emulator, all linked in
 * the same second through the real OAuth flow (`linkOutlook`: authorize, the emulator's sign-in form, our
 * callback; 100 flows started together, 25 per user since authorize allows 30 per user in 10 minutes), synced by
 * two consumer instances (BENCH_FLEET_CONSUMERS: real processes, one Kafka group) and one producer, the consumers
 * as deployed (nest build's bundle; BENCH_FLEET_BUILT=0 runs the sources) with their default settings. The links
 * start once the sync topic's consumer group is settled (both instances members, every partition assigned), as in a
 * deployment whose workers have been running.
 *
 * Per mailbox, from its consent redirect (the clock starts as the emulator's consent screen redirects back to our
 * callback, so the seconds the callback's token exchange takes are part of every figure, as a user waits them):
 * - first screen: the API answers the Inbox's first page (50 messages). The bench asks as a dashboard would: on
 *   each of the account's socket events (`sync.progress`, `account.status`), and every 250 ms once its sync has
 *   started (every 2 s before); once the sync is through, that page must be the Inbox's newest page (same ids, same
 *   order), as bench:first-screen checks.
 * - synced: the account's `sync.completed` on its owner's socket (or `synced` in the accounts list, polled every
 *   2 s, should an event be missed); then the mirror must hold all its messages.
 * Reported: first screen p50 / p95 / max and how many took over 5 s; completion median and max and max / median
 * (fairness: the aim is at most 3); per Kafka partition of the sync topic (the key is the account id) its mailboxes,
 * its consumer instance, its queue (sync requests not yet committed, sampled each second) and its last completion;
 * each process's share of a core and the machine's busy share over the phase.
 *
 * Baseline, in the same run, on a fresh product of the same shape: ONE mailbox holding the same total (mailboxes x
 * messages, BENCH_FLEET_BASELINE_MESSAGES to change it), linked and synced alone (link -> `synced`).
 * `ratio` = the fleet's aggregate messages/s (all messages / first consent -> last `synced`) over the single
 * mailbox's messages/s; the aim is at least 1. Each phase runs on its own isolated product (its own database and
 * topics), so neither sees the other's rows.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { AssignerProtocol, Kafka } from 'kafkajs';
import { Client } from 'pg';
import { io, type Socket } from 'socket.io-client';
import { ConsumerGroups, REALTIME_PATH, Topics, type DomainEvent } from '@email-core/contracts';
import { partitionOfKey } from '@email-core/kafka';
import globalSetup from '../libs/testing/src/jest/global-setup';
import globalTeardown from '../libs/testing/src/jest/global-teardown';
import { ensureAppBuild } from '../libs/testing/src/builds';
import {
  apiCall,
  linkOutlook,
  signUp,
  startProduct,
  waitForAccountStatus,
  type RunningProduct,
} from '../libs/testing/src/product';
import { currentTestRun } from '../libs/testing/src/test-run';
import { cpuSeconds } from './proc';
import { report } from './report';
import { withEmulatorCa } from './with-emulator-ca';

const args = process.argv.slice(2).filter((a) => /^\d+$/.test(a));
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const MAILBOXES = Number(args[0] ?? env('BENCH_FLEET_MAILBOXES', 100));
const MESSAGES = Number(args[1] ?? env('BENCH_FLEET_MESSAGES', 2000));
const CONSUMERS = env('BENCH_FLEET_CONSUMERS', 2);
const BASELINE_MESSAGES = env('BENCH_FLEET_BASELINE_MESSAGES', MAILBOXES * MESSAGES);
const TIMEOUT_MS = env('BENCH_FLEET_TIMEOUT_SECONDS', 1800) * 1000;
/** e.g. BENCH_FLEET_LOG_LEVEL=log keeps the consumers' per-account lines (with TEST_APP_LOG_DIR, in files) */
const LOG_LEVEL = process.env.BENCH_FLEET_LOG_LEVEL ?? 'warn';
/** BENCH_FLEET_BUILT=0 runs the consumers from their sources (through @swc-node/register) like the tests do */
const BUILT = process.env.BENCH_FLEET_BUILT !== '0';
const LINKS_PER_USER = 25;
const PAGE = 50;
const FIRST_SCREEN_AIM_S = 5;
const FAIRNESS_AIM = 3;
const RATIO_AIM = 1;
const DOMAIN = 'fleet.example';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (m: string) => process.stderr.write(`[fleet ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
const round = (n: number, digits = 2) => Number(n.toFixed(digits));

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted.length === 0
    ? NaN
    : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function buildConsumer(): void {
  // the bundle the Dockerfile runs, built when older than the sources
  ensureAppBuild('consumer');
}

async function start(): Promise<RunningProduct> {
  return startProduct({
    appEnv: { LOG_LEVEL },
    consumers: CONSUMERS,
    consumerSpawn: {
      built: BUILT,
      nodeArgs: process.env.BENCH_CONSUMER_NODE_ARGS?.split(' ').filter(Boolean) ?? [],
    },
    built: true,
    isolated: true,
  });
}

// ---- where the CPU went ----

/** CPU seconds of every process named `postgres` (the server and its backends; one that exited meanwhile is lost) */
function postgresCpuSeconds(): number {
  let sum = 0;
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres') sum += cpuSeconds(Number(pid));
    } catch {
      // gone meanwhile
    }
  }
  return sum;
}

/** the machine's busy and total jiffies over all cores (/proc/stat) */
function machineJiffies(): { busy: number; total: number } {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - (f[3] ?? 0) - (f[4] ?? 0), total };
}

type Cpu = Record<string, number>;
function cpuNow(product: RunningProduct): { procs: Cpu; machine: { busy: number; total: number } } {
  const procs: Cpu = {};
  product.consumers.forEach((c, i) => (procs[`consumer${i}`] = cpuSeconds(c.child.pid)));
  procs.producer = cpuSeconds(product.producer.child.pid);
  procs.emulator = cpuSeconds(product.emulator.app.child.pid);
  procs.postgres = postgresCpuSeconds();
  const self = process.cpuUsage();
  procs.bench = (self.user + self.system) / 1e6;
  return { procs, machine: machineJiffies() };
}
/** each process's share of a core over the phase, and the machine's busy share of all its cores */
function cpuShares(a: ReturnType<typeof cpuNow>, b: ReturnType<typeof cpuNow>, seconds: number) {
  const shares: Cpu = {};
  for (const k of Object.keys(b.procs)) shares[k] = round((b.procs[k] - (a.procs[k] ?? 0)) / seconds);
  const machineBusy = round(
    (b.machine.busy - a.machine.busy) / Math.max(1, b.machine.total - a.machine.total),
  );
  return { shares, machineBusy };
}

// ---- the sync topic's partitions: who holds them, how long their queues are ----

interface PartitionQueues {
  /** per partition, sync requests not yet committed by the group, one sample a second */
  samples: Array<{ t: number; lag: number[] }>;
  /** partition -> the member (by its position in the group description) holding it */
  owner: Map<number, string>;
  stop(): Promise<void>;
}

async function watchSyncQueues(product: RunningProduct, t0: number): Promise<PartitionQueues> {
  const prefix = product.env.KAFKA_TOPIC_PREFIX ?? '';
  const kafka = new Kafka({ clientId: 'bench-fleet', brokers: currentTestRun().kafkaBrokers, logLevel: 0 });
  const admin = kafka.admin();
  await admin.connect();
  const topic = `${prefix}${Topics.syncRequests}`;
  const groupId = `${prefix}${ConsumerGroups.sync}`;
  const owner = new Map<number, string>();
  const samples: PartitionQueues['samples'] = [];
  let running = true;
  const describe = async () => {
    const { groups } = await admin.describeGroups([groupId]);
    for (const m of groups[0]?.members ?? []) {
      const decoded = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
      for (const p of decoded?.assignment[topic] ?? [])
        owner.set(p, `${m.clientHost} ${m.memberId.slice(-8)}`);
    }
  };
  const loop = (async () => {
    while (running) {
      try {
        const [ends, [committed]] = await Promise.all([
          admin.fetchTopicOffsets(topic),
          admin.fetchOffsets({ groupId, topics: [topic] }),
        ]);
        const at = new Map(committed.partitions.map((p) => [p.partition, Number(p.offset)]));
        const lag: number[] = [];
        for (const p of ends)
          lag[p.partition] = Math.max(0, Number(p.high) - Math.max(0, at.get(p.partition) ?? 0));
        samples.push({ t: round((performance.now() - t0) / 1000, 1), lag });
        if (owner.size === 0) await describe();
      } catch {
        // a sample lost; the next one comes
      }
      await sleep(1000);
    }
  })();
  return {
    samples,
    owner,
    stop: async () => {
      running = false;
      await loop;
      await describe().catch(() => undefined);
      await admin.disconnect();
    },
  };
}

/**
 * Waits until the sync group is settled: every consumer instance a member, the group stable, every partition of the
 * sync topic assigned (the product's topics are new, so its group forms when the bench starts; a deployment's is
 * long formed when users link). Answers the seconds it took.
 */
async function syncGroupSettled(product: RunningProduct): Promise<number> {
  const prefix = product.env.KAFKA_TOPIC_PREFIX ?? '';
  const kafka = new Kafka({
    clientId: 'bench-fleet-group',
    brokers: currentTestRun().kafkaBrokers,
    logLevel: 0,
  });
  const admin = kafka.admin();
  await admin.connect();
  const topic = `${prefix}${Topics.syncRequests}`;
  const groupId = `${prefix}${ConsumerGroups.sync}`;
  const t0 = performance.now();
  try {
    const partitions = (await admin.fetchTopicOffsets(topic)).length;
    for (;;) {
      const { groups } = await admin.describeGroups([groupId]);
      const group = groups[0];
      const assigned = new Set<number>();
      for (const m of group?.members ?? []) {
        for (const p of AssignerProtocol.MemberAssignment.decode(m.memberAssignment)?.assignment[topic] ?? [])
          assigned.add(p);
      }
      if (group?.state === 'Stable' && group.members.length === CONSUMERS && assigned.size === partitions)
        break;
      if (performance.now() - t0 > 120_000)
        throw new Error(`the sync group did not settle: ${JSON.stringify(group)}`);
      await sleep(250);
    }
  } finally {
    await admin.disconnect();
  }
  return round((performance.now() - t0) / 1000, 1);
}

// ---- the fleet ----

interface Mailbox {
  index: number;
  address: string;
  user: number;
  accountId?: string;
  partition?: number;
  /** performance.now() at the link's start (authorize) and at its consent redirect */
  linkStartAt?: number;
  consentAt?: number;
  /** the callback answered (the account exists), ms after consent */
  callbackMs?: number;
  inbox?: string;
  started: boolean;
  lastCheck: number;
  checking: boolean;
  recheck: boolean;
  firstScreenMs?: number;
  firstPage?: string[];
  syncedMs?: number;
  syncedBy?: 'event' | 'poll';
  syncStartedMs?: number;
  linkError?: string;
}

interface Page {
  items: Array<{ id: string }>;
}

async function runFleet(product: RunningProduct) {
  const tag = Math.random().toString(36).slice(2, 8);
  const boxes: Mailbox[] = Array.from({ length: MAILBOXES }, (_, i) => ({
    index: i,
    address: `f${i}-${tag}@${DOMAIN}`,
    user: Math.floor(i / LINKS_PER_USER),
    started: false,
    lastCheck: 0,
    checking: false,
    recheck: false,
  }));
  // 1. the mailboxes (not timed)
  const s0 = performance.now();
  for (let i = 0; i < boxes.length; i += 8) {
    await Promise.all(
      boxes.slice(i, i + 8).map((b) =>
        product.emulator.admin('POST', '/_emulator/mailboxes', {
          address: b.address,
          displayName: `Fleet ${b.index}`,
          seed: { messages: MESSAGES, folders: 3, seed: 1000 + b.index },
        }),
      ),
    );
  }
  const seedSeconds = round((performance.now() - s0) / 1000, 1);
  log(`${MAILBOXES} mailboxes of ${MESSAGES} seeded in ${seedSeconds} s`);
  // 2. the users and their sockets (as the dashboard connects), before any link
  const users = [...new Set(boxes.map((b) => b.user))];
  const tokens = new Map<number, string>();
  for (const u of users) tokens.set(u, (await signUp(product.api, `fleet-${u}-${tag}@example.test`)).token);
  const byAccount = new Map<string, Mailbox>();
  const sockets: Socket[] = [];
  let t0 = 0;
  const since = (b: Mailbox) => performance.now() - (b.consentAt ?? performance.now());
  const check = async (b: Mailbox): Promise<void> => {
    if (b.firstScreenMs !== undefined || !b.accountId) return;
    if (b.checking) {
      b.recheck = true;
      return;
    }
    b.checking = true;
    b.lastCheck = performance.now();
    const token = tokens.get(b.user) ?? '';
    try {
      if (!b.inbox) {
        const folders = await apiCall<{ items: Array<{ id: string; wellKnownName: string | null }> }>(
          product.api,
          'GET',
          `/api/v1/accounts/${b.accountId}/folders`,
          { token },
        );
        if (folders.status === 200) b.inbox = folders.body.items.find((f) => f.wellKnownName === 'inbox')?.id;
      }
      if (b.inbox) {
        const page = await apiCall<Page>(
          product.api,
          'GET',
          `/api/v1/accounts/${b.accountId}/messages?folderId=${encodeURIComponent(b.inbox)}&limit=${PAGE}`,
          { token },
        );
        if (page.status === 200 && page.body.items.length >= PAGE && b.firstScreenMs === undefined) {
          b.firstScreenMs = since(b);
          b.firstPage = page.body.items.map((m) => m.id);
        }
      }
    } finally {
      b.checking = false;
      if (b.recheck) {
        b.recheck = false;
        void check(b).catch(() => undefined);
      }
    }
  };
  const onEvent = (e: DomainEvent) => {
    const b = 'accountId' in e ? byAccount.get(e.accountId) : undefined;
    if (!b) return;
    if (e.type === 'sync.completed') {
      if (b.syncedMs === undefined) {
        b.syncedMs = since(b);
        b.syncedBy = 'event';
      }
      return;
    }
    if (
      !b.started &&
      (e.type === 'sync.progress' || (e.type === 'account.status' && e.status === 'syncing'))
    ) {
      b.started = true;
      b.syncStartedMs = since(b);
    }
    void check(b).catch(() => undefined);
  };
  for (const u of users) {
    const socket = io(product.api, {
      path: REALTIME_PATH,
      auth: { token: tokens.get(u) },
      transports: ['websocket'],
    });
    for (const type of ['sync.progress', 'sync.completed', 'account.status'])
      socket.on(type, (e: DomainEvent) => onEvent(e));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    sockets.push(socket);
  }
  const groupSettleSeconds = await syncGroupSettled(product);
  log(`sync group settled (${CONSUMERS} members) after ${groupSettleSeconds} s more`);
  // 3. every link at once
  t0 = performance.now();
  const queues = await watchSyncQueues(product, t0);
  const cpu0 = cpuNow(product);
  let finished = false;
  // what a dashboard would also do: ask again now and then (an event may be missed), and poll the accounts list
  const poller = (async () => {
    let lastList = 0;
    while (!finished) {
      const now = performance.now();
      for (const b of boxes) {
        if (b.firstScreenMs !== undefined || !b.accountId || b.checking) continue;
        if (now - b.lastCheck >= (b.started ? 250 : 2000)) void check(b).catch(() => undefined);
      }
      if (now - lastList > 2000) {
        lastList = now;
        for (const u of users) {
          const res = await apiCall<{ items: Array<{ id: string; status: string }> }>(
            product.api,
            'GET',
            '/api/v1/accounts',
            { token: tokens.get(u) },
          ).catch(() => undefined);
          for (const a of res?.body.items ?? []) {
            const b = byAccount.get(a.id);
            if (b && a.status === 'synced' && b.syncedMs === undefined) {
              b.syncedMs = since(b);
              b.syncedBy = 'poll';
            }
          }
        }
      }
      await sleep(50);
    }
  })();
  await Promise.all(
    boxes.map(async (b) => {
      b.linkStartAt = performance.now();
      try {
        const dashboard = await linkOutlook(product, tokens.get(b.user) ?? '', b.address, undefined, () => {
          b.consentAt = performance.now();
        });
        b.callbackMs = since(b);
        const id = /linked=([0-9a-f-]{36})/.exec(dashboard)?.[1];
        if (!id) throw new Error(`no account id in ${dashboard}`);
        b.accountId = id;
        b.partition = partitionOfKey(id, Number(product.env.KAFKA_TOPIC_PARTITIONS ?? 6));
        byAccount.set(id, b);
        void check(b).catch(() => undefined);
      } catch (err) {
        b.linkError = err instanceof Error ? err.message : String(err);
      }
    }),
  );
  const linked = boxes.filter((b) => b.accountId);
  const consents = linked.map((b) => b.consentAt ?? 0);
  const firstConsent = Math.min(...consents);
  const lastConsent = Math.max(...consents);
  log(
    `${linked.length} linked (${MAILBOXES - linked.length} failed): consents within ` +
      `${round((lastConsent - firstConsent) / 1000)} s, all callbacks answered ${round((performance.now() - t0) / 1000)} s after the first authorize`,
  );
  const failures = boxes.filter((b) => b.linkError).map((b) => `${b.index}: ${b.linkError}`);
  // 4. until every linked mailbox is synced
  let lastLog = 0;
  while (linked.some((b) => b.syncedMs === undefined || b.firstScreenMs === undefined)) {
    if (performance.now() - t0 > TIMEOUT_MS) break;
    if (performance.now() - lastLog > 15_000) {
      lastLog = performance.now();
      log(
        `${linked.filter((b) => b.firstScreenMs !== undefined).length} first screens, ` +
          `${linked.filter((b) => b.syncedMs !== undefined).length} synced of ${linked.length}; ` +
          `queues ${JSON.stringify(queues.samples.at(-1)?.lag ?? [])}`,
      );
    }
    await sleep(200);
  }
  const lastSynced = Math.max(...linked.map((b) => (b.consentAt ?? 0) + (b.syncedMs ?? Infinity)));
  const fleetSeconds = (lastSynced - firstConsent) / 1000;
  const cpu = cpuShares(cpu0, cpuNow(product), (performance.now() - t0) / 1000);
  finished = true;
  await poller;
  await queues.stop();
  for (const s of sockets) s.disconnect();
  // 5. the mirror holds every message; each first page answered early is the Inbox's newest page now
  const db = new Client({ connectionString: product.databaseUrl });
  await db.connect();
  const counts = new Map<string, number>();
  try {
    const r = await db.query<{ id: string; n: number }>(
      'SELECT account_id AS id, count(*)::int AS n FROM messages WHERE account_id = ANY($1::uuid[]) GROUP BY 1',
      [linked.map((b) => b.accountId)],
    );
    for (const row of r.rows) counts.set(row.id, row.n);
  } finally {
    await db.end();
  }
  const incomplete = linked.filter((b) => counts.get(b.accountId ?? '') !== MESSAGES);
  const wrongPage: number[] = [];
  for (const b of linked) {
    if (!b.inbox || !b.firstPage) continue;
    const now = await apiCall<Page>(
      product.api,
      'GET',
      `/api/v1/accounts/${b.accountId}/messages?folderId=${encodeURIComponent(b.inbox)}&limit=${PAGE}`,
      { token: tokens.get(b.user) },
    );
    const ids = now.body.items.map((m) => m.id);
    if (ids.length !== b.firstPage.length || ids.some((id, i) => id !== b.firstPage?.[i]))
      wrongPage.push(b.index);
  }
  const stats = await product.emulator.admin<{ mailboxes: Record<string, { throttled: number }> }>(
    'GET',
    '/_emulator/stats',
  );
  return {
    boxes,
    linked,
    failures,
    seedSeconds,
    groupSettleSeconds,
    linkSpread: {
      /** first authorize -> last consent redirect */
      authorizeToLastConsentSeconds: round((lastConsent - (t0 || firstConsent)) / 1000),
      firstToLastConsentSeconds: round((lastConsent - firstConsent) / 1000),
      callbackMs: {
        p50: Math.round(
          percentile(
            linked.map((b) => b.callbackMs ?? NaN),
            50,
          ),
        ),
        max: Math.round(
          percentile(
            linked.map((b) => b.callbackMs ?? NaN),
            100,
          ),
        ),
      },
    },
    fleetSeconds,
    cpu,
    queues,
    incomplete: incomplete.map((b) => `${b.index}: ${counts.get(b.accountId ?? '') ?? 0}`),
    wrongPage,
    outlook429s: Object.values(stats.mailboxes).reduce((s, m) => s + m.throttled, 0),
  };
}

// ---- the baseline: one mailbox of the same total ----

async function runBaseline(product: RunningProduct) {
  const address = `big-${Math.random().toString(36).slice(2, 8)}@${DOMAIN}`;
  const s0 = performance.now();
  await product.emulator.admin('POST', '/_emulator/mailboxes', {
    address,
    seed: { messages: BASELINE_MESSAGES, folders: 3, seed: 4242 },
  });
  const seedSeconds = round((performance.now() - s0) / 1000, 1);
  log(`one mailbox of ${BASELINE_MESSAGES} seeded in ${seedSeconds} s; linking`);
  const { token } = await signUp(product.api);
  await syncGroupSettled(product);
  let consentAt = 0;
  const c0 = cpuNow(product);
  await linkOutlook(product, token, address, undefined, () => {
    consentAt = performance.now();
  });
  const account = await waitForAccountStatus(product.api, token, 'synced', {
    timeoutMs: TIMEOUT_MS,
    intervalMs: 250,
  });
  const seconds = (performance.now() - consentAt) / 1000;
  const cpu = cpuShares(c0, cpuNow(product), seconds);
  const db = new Client({ connectionString: product.databaseUrl });
  await db.connect();
  try {
    const n = (
      await db.query<{ n: number }>('SELECT count(*)::int AS n FROM messages WHERE account_id = $1', [
        account.id,
      ])
    ).rows[0]?.n;
    if (n !== BASELINE_MESSAGES)
      throw new Error(`baseline synced ${n} messages, expected ${BASELINE_MESSAGES}`);
  } finally {
    await db.end();
  }
  log(`baseline: ${BASELINE_MESSAGES} in ${round(seconds, 1)} s`);
  return {
    messages: BASELINE_MESSAGES,
    seedSeconds,
    seconds: round(seconds, 1),
    messagesPerSecond: Math.round(BASELINE_MESSAGES / seconds),
    cpu,
  };
}

async function main(): Promise<void> {
  if (![MAILBOXES, MESSAGES, CONSUMERS, BASELINE_MESSAGES].every((n) => Number.isInteger(n) && n > 0))
    throw new Error('usage: bench:fleet-sync [-- <mailboxes> [<messages per mailbox>]]');
  if (BUILT) buildConsumer();
  await globalSetup();
  const load0 = os.loadavg();
  let commit = '';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout
  }
  try {
    let product = await start();
    let fleet: Awaited<ReturnType<typeof runFleet>>;
    try {
      fleet = await runFleet(product);
    } finally {
      await product.stop();
    }
    const loadBetween = os.loadavg();
    product = await start();
    let baseline: Awaited<ReturnType<typeof runBaseline>>;
    try {
      baseline = await runBaseline(product);
    } finally {
      await product.stop();
    }
    const { linked } = fleet;
    const fs_ = linked.map((b) => (b.firstScreenMs ?? Infinity) / 1000);
    const done = linked.map((b) => (b.syncedMs ?? Infinity) / 1000);
    const synced = linked.filter((b) => b.syncedMs !== undefined).length;
    const totalMessages = linked.length * MESSAGES;
    const fleetRate = Math.round(totalMessages / fleet.fleetSeconds);
    const ratio = round(fleetRate / baseline.messagesPerSecond, 3);
    const median = percentile(done, 50);
    const max = percentile(done, 100);
    const fairness = round(max / median);
    const over = fs_.filter((s) => s > FIRST_SCREEN_AIM_S).length;
    const partitions = Number(fleet.queues.samples.at(-1)?.lag.length ?? 6);
    const perPartition = Array.from({ length: partitions }, (_, p) => {
      const on = linked.filter((b) => b.partition === p);
      const doneOn = on.map((b) => (b.syncedMs ?? Infinity) / 1000);
      return {
        partition: p,
        consumer: fleet.queues.owner.get(p) ?? '?',
        mailboxes: on.length,
        queueMax: Math.max(0, ...fleet.queues.samples.map((s) => s.lag[p] ?? 0)),
        firstScreenMaxSeconds: round(Math.max(0, ...on.map((b) => (b.firstScreenMs ?? Infinity) / 1000))),
        lastSyncedSeconds: round(Math.max(0, ...doneOn), 1),
        /** mean seconds a mailbox of this partition held its worker (its partition's queue is sequential) */
        meanSecondsPerMailbox: on.length ? round(Math.max(0, ...doneOn) / on.length, 1) : 0,
      };
    });
    const results = {
      name: 'fleet-sync',
      date: new Date().toISOString(),
      commit,
      cores: os.cpus().length,
      loadAverage: {
        atStart: load0.map((l) => round(l)),
        betweenPhases: loadBetween.map((l) => round(l)),
        atEnd: os.loadavg().map((l) => round(l)),
      },
      mailboxes: MAILBOXES,
      messagesPerMailbox: MESSAGES,
      consumers: CONSUMERS,
      linked: linked.length,
      linkFailures: fleet.failures,
      seedSeconds: fleet.seedSeconds,
      groupSettleSeconds: fleet.groupSettleSeconds,
      linkSpread: fleet.linkSpread,
      fleet: {
        seconds: round(fleet.fleetSeconds, 1),
        messages: totalMessages,
        messagesPerSecond: fleetRate,
        cpu: fleet.cpu,
        outlook429s: fleet.outlook429s,
      },
      firstScreen: {
        p50Seconds: round(percentile(fs_, 50)),
        p95Seconds: round(percentile(fs_, 95)),
        maxSeconds: round(percentile(fs_, 100)),
        overAim: over,
        aimSeconds: FIRST_SCREEN_AIM_S,
        notNewestPage: fleet.wrongPage,
      },
      completion: {
        synced,
        medianSeconds: round(median, 1),
        maxSeconds: round(max, 1),
        maxOverMedian: fairness,
        aim: FAIRNESS_AIM,
        incomplete: fleet.incomplete,
        byPoll: linked.filter((b) => b.syncedBy === 'poll').length,
      },
      perPartition,
      queueSamples: fleet.queues.samples,
      perMailbox: fleet.boxes.map((b) => ({
        i: b.index,
        partition: b.partition,
        callbackMs: b.callbackMs === undefined ? null : Math.round(b.callbackMs),
        syncStartedS: b.syncStartedMs === undefined ? null : round(b.syncStartedMs / 1000),
        firstScreenS: b.firstScreenMs === undefined ? null : round(b.firstScreenMs / 1000),
        syncedS: b.syncedMs === undefined ? null : round(b.syncedMs / 1000),
        error: b.linkError,
      })),
      baseline,
      ratioAim: RATIO_AIM,
      ratio,
    };
    const cpuLine = (c: { shares: Cpu; machineBusy: number }) =>
      Object.entries(c.shares)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') + `; machine ${Math.round(c.machineBusy * 100)} % busy`;
    const rows = [
      ['measure', 'value', 'aim'],
      [
        'fleet',
        `${linked.length} mailboxes x ${MESSAGES} messages, ${CONSUMERS} consumer instances, ${os.cpus().length} cores`,
        '',
      ],
      [
        'links: first authorize -> last consent; callback p50 / max',
        `${fleet.linkSpread.authorizeToLastConsentSeconds} s; ${fleet.linkSpread.callbackMs.p50} / ${fleet.linkSpread.callbackMs.max} ms`,
        '',
      ],
      [
        'first screen (consent -> Inbox page 1) p50 / p95 / max',
        `${results.firstScreen.p50Seconds} / ${results.firstScreen.p95Seconds} / ${results.firstScreen.maxSeconds} s`,
        `all < ${FIRST_SCREEN_AIM_S} s`,
      ],
      [
        `  over ${FIRST_SCREEN_AIM_S} s; first page not the newest`,
        `${over}; ${fleet.wrongPage.length}`,
        '0; 0',
      ],
      [
        'synced (consent -> sync.completed) median / max',
        `${results.completion.medianSeconds} / ${results.completion.maxSeconds} s (${synced}/${linked.length}, ${fleet.incomplete.length} incomplete)`,
        '',
      ],
      ['  max / median', String(fairness), `<= ${FAIRNESS_AIM}`],
      ['fleet: first consent -> last synced', `${results.fleet.seconds} s, ${fleetRate} msg/s`, ''],
      ['  CPU (share of a core)', cpuLine(fleet.cpu), ''],
      [
        `baseline: one mailbox of ${baseline.messages}`,
        `${baseline.seconds} s, ${baseline.messagesPerSecond} msg/s`,
        '',
      ],
      ['  CPU (share of a core)', cpuLine(baseline.cpu), ''],
      ['fleet msg/s / one mailbox msg/s', String(ratio), `>= ${RATIO_AIM}`],
      [
        'load average 1 min: start / between / end',
        `${results.loadAverage.atStart[0]} / ${results.loadAverage.betweenPhases[0]} / ${results.loadAverage.atEnd[0]}`,
        '',
      ],
      [],
      ['partition (consumer)', 'mailboxes, queue max, first screen max, last synced, s per mailbox', ''],
      ...perPartition.map((p) => [
        `${p.partition} (${p.consumer})`,
        `${p.mailboxes}, ${p.queueMax}, ${p.firstScreenMaxSeconds} s, ${p.lastSyncedSeconds} s, ${p.meanSecondsPerMailbox} s`,
        '',
      ]),
    ];
    report('fleet-sync', rows, results);
  } finally {
    await globalTeardown();
  }
}

withEmulatorCa();
main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
