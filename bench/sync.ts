/**
 * `npm run bench:sync`: the whole product syncing 100,000 seeded messages from the emulator into Postgres,
 * end to end: link (sign-in form), outbox, Kafka, the consumer's folder tree and per-folder delta, bulk
 * upserts with bodies and search vectors, until the account reports `synced`.
 *
 * Baseline, measured in the same run: the same rows (list columns and bodies) loaded with plain `COPY` into
 * scratch tables of the same shape, three times (the median counts). `ratio` is our end-to-end messages/s divided
 * by COPY's rows/s. Shown beside it, not the aim's baseline: the same COPY into tables of the mirror's own schema
 * (logged, every index), and where the CPU went during the sync, per process.
 * Also reported: the consumer's RSS at rest and its peak (VmHWM from /proc), against a 300 MB aim, and flatness:
 * the same run at 3x the messages (BENCH_SYNC_SIZES, default 100,000 and 300,000, each on a fresh product) must
 * peak within 10% of it. The consumer runs as deployed (nest build's bundle); BENCH_SYNC_BUILT=0 runs the sources.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Client } from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import globalSetup from '../libs/testing/src/jest/global-setup';
import globalTeardown from '../libs/testing/src/jest/global-teardown';
import { SEARCH_VECTOR_SQL } from '../libs/database/src/mail/messages.repository';
import { ensureAppBuild } from '../libs/testing/src/builds';
import { linkOutlook, signUp, startProduct, waitForAccountStatus } from '../libs/testing/src/product';
import { currentTestRun } from '../libs/testing/src/test-run';
import { cpuSnapshot, cpuSplit, procStatus, productCpuGroups } from './proc';
import { report } from './report';
import { withEmulatorCa } from './with-emulator-ca';

const MESSAGES = Number(process.env.BENCH_SYNC_MESSAGES ?? 100_000);
/** every size runs on its own fresh product; the ratio is the MESSAGES run's, the others show growth and flatness */
const SIZES = (process.env.BENCH_SYNC_SIZES ?? `${MESSAGES},${MESSAGES * 3}`)
  .split(',')
  .map(Number)
  .filter((n) => n > 0);
const RSS_AIM_BYTES = 300 * 1024 * 1024;
const RATIO_AIM = 0.3;
/** BENCH_SYNC_BUILT=0 runs the consumer from its sources (through @swc-node/register) like the tests do */
const BUILT = process.env.BENCH_SYNC_BUILT !== '0';

function buildConsumer(): void {
  // the bundle the Dockerfile runs, built when older than the sources
  ensureAppBuild('consumer');
}

/** plain COPY runs per size; the ratio uses their median (one COPY's rate moved by a third between runs here) */
const COPY_RUNS = 3;

interface CopyBaseline {
  rows: number;
  /** the median run's seconds */
  seconds: number;
  /** every run's rows/s, in order */
  runsRowsPerSecond: number[];
  /**
   * Not the ratio's baseline, shown beside it: the same rows COPYed into tables of the mirror's own schema (logged,
   * with every index of `messages` and `message_bodies`, the search GIN included; the vectors still precomputed),
   * the database's own limit for writing these rows where the sync writes them.
   */
  schema: { seconds: number; rowsPerSecond: number };
  /**
   * Also beside it: the sync's own search vectors (SEARCH_VECTOR_SQL over every synced row and its body) computed
   * alone in one statement, nothing written: the database work a sync does that no COPY does
   */
  vectors: { seconds: number; microsPerMessage: number };
}

async function copyBaseline(db: Client, accountId: string): Promise<CopyBaseline> {
  // the rows as they are now, in COPY's text format (not timed), then loaded with COPY FROM (timed)
  const dump = async (sql: string) => {
    const chunks: Buffer[] = [];
    for await (const c of db.query(copyTo(sql)) as AsyncIterable<Buffer>) chunks.push(c);
    return Buffer.concat(chunks);
  };
  const messages = await dump(`COPY (SELECT * FROM messages WHERE account_id = '${accountId}') TO STDOUT`);
  const bodies = await dump(
    `COPY (SELECT * FROM message_bodies WHERE account_id = '${accountId}') TO STDOUT`,
  );
  const load = async (messagesTable: string, bodiesTable: string): Promise<number> => {
    const t0 = performance.now();
    await pipeline(Readable.from([messages]), db.query(copyFrom(`COPY ${messagesTable} FROM STDIN`)));
    await pipeline(Readable.from([bodies]), db.query(copyFrom(`COPY ${bodiesTable} FROM STDIN`)));
    return (performance.now() - t0) / 1000;
  };
  const runs: number[] = [];
  for (let i = 0; i < COPY_RUNS; i++) {
    await db.query('DROP TABLE IF EXISTS scratch_messages, scratch_bodies');
    await db.query('CREATE TEMP TABLE scratch_messages (LIKE messages INCLUDING DEFAULTS)');
    await db.query('CREATE TEMP TABLE scratch_bodies (LIKE message_bodies INCLUDING DEFAULTS)');
    runs.push(await load('scratch_messages', 'scratch_bodies'));
  }
  const rows = Number(
    (await db.query<{ n: string }>('SELECT count(*) AS n FROM scratch_messages')).rows[0]?.n,
  );
  await db.query('DROP TABLE scratch_messages, scratch_bodies');
  await db.query('CREATE TABLE scratch_schema_messages (LIKE messages INCLUDING ALL)');
  await db.query('CREATE TABLE scratch_schema_bodies (LIKE message_bodies INCLUDING ALL)');
  const schemaSeconds = await load('scratch_schema_messages', 'scratch_schema_bodies');
  await db.query('DROP TABLE scratch_schema_messages, scratch_schema_bodies');
  const v0 = performance.now();
  await db.query(
    `SELECT sum(length(${SEARCH_VECTOR_SQL('r')})) FROM (
       SELECT m.subject, m.from_name, m.from_address, b.content_type AS body_type, b.content AS body_content
       FROM messages m JOIN message_bodies b ON b.account_id = m.account_id AND b.remote_id = m.remote_id
       WHERE m.account_id = $1) r`,
    [accountId],
  );
  const vectorSeconds = (performance.now() - v0) / 1000;
  const seconds = [...runs].sort((a, b) => a - b)[Math.floor(runs.length / 2)] ?? 0;
  return {
    vectors: {
      seconds: Number(vectorSeconds.toFixed(2)),
      microsPerMessage: Number(((vectorSeconds * 1e6) / rows).toFixed(1)),
    },
    rows,
    seconds,
    runsRowsPerSecond: runs.map((r) => Math.round(rows / r)),
    schema: { seconds: Number(schemaSeconds.toFixed(2)), rowsPerSecond: Math.round(rows / schemaSeconds) },
  };
}

interface SizeRun {
  messages: number;
  seedSeconds: number;
  endToEnd: { seconds: number; messagesPerSecond: number };
  consumerRestRssBytes: number;
  consumerPeakRssBytes: number;
  baselineCopy: {
    rows: number;
    seconds: number;
    rowsPerSecond: number;
    runsRowsPerSecond: number[];
    schema: { seconds: number; rowsPerSecond: number };
    vectors: { seconds: number; microsPerMessage: number };
  };
  /** our messages/s over the schema COPY's rows/s (not the aim's ratio: see CopyBaseline.schema) */
  ratioToSchemaCopy: number;
  ratio: number;
  /** Postgres: the account's rows in messages + message_bodies with their indexes, after the sync */
  databaseBytes: number;
  /**
   * Where the CPU went from link to synced: seconds per process group (Postgres is every `postgres` process of the
   * machine, the primary's backends and the replica's WAL replay), `machine` every core's busy time, `available`
   * the interval times the core count; `perMessageMicros` each group's CPU per synced message
   */
  /** WAL the primary wrote from link to synced (every database of the cluster), per synced message */
  walBytesPerMessage: number;
  cpu: {
    seconds: Record<string, number>;
    perMessageMicros: Record<string, number>;
    otherTop: Record<string, number>;
  };
}

/** One size: a fresh product (so a fresh consumer, whose peak RSS is this size's alone) and its own COPY baseline. */
async function runSize(messages: number): Promise<SizeRun> {
  const product = await startProduct({
    appEnv: {
      LOG_LEVEL: 'warn',
      ...(process.env.SYNC_PAGE_SIZE ? { SYNC_PAGE_SIZE: process.env.SYNC_PAGE_SIZE } : {}),
      ...(process.env.DATABASE_PREPARED_STATEMENTS
        ? { DATABASE_PREPARED_STATEMENTS: process.env.DATABASE_PREPARED_STATEMENTS }
        : {}),
    },
    consumerSpawn: {
      // the consumer as deployed (the Dockerfile runs `nest build`'s bundle), not compiled on the fly
      built: BUILT,
      // e.g. BENCH_CONSUMER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the consumer
      nodeArgs: process.env.BENCH_CONSUMER_NODE_ARGS?.split(' ').filter(Boolean) ?? [],
    },
    built: true,
  });
  const db = new Client({ connectionString: currentTestRun().databaseUrl });
  try {
    await db.connect();
    const address = `bench-sync-${messages}@contoso.example`;
    const seedStart = performance.now();
    await product.emulator.admin('POST', '/_emulator/mailboxes', {
      address,
      seed: { messages, folders: 3, seed: 4242 },
    });
    const seedSeconds = (performance.now() - seedStart) / 1000;
    const { token } = await signUp(product.api);
    const restRss = procStatus(product.consumer.child.pid, 'VmRSS');
    const walLsn = async () =>
      (await db.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]?.lsn ?? '0/0';
    const walBefore = await walLsn();
    const cpuBefore = cpuSnapshot();
    const t0 = performance.now();
    await linkOutlook(product, token, address);
    const account = await waitForAccountStatus(product.api, token, 'synced', {
      timeoutMs: 1_800_000,
      intervalMs: 250,
    });
    const seconds = (performance.now() - t0) / 1000;
    const split = cpuSplit(
      cpuBefore,
      cpuSnapshot(),
      productCpuGroups({
        consumer: product.consumer.child.pid,
        producer: product.producer.child.pid,
        emulator: product.emulator.app.child.pid,
      }),
    );
    const walBytes = Number(
      (
        await db.query<{ b: string }>('SELECT pg_wal_lsn_diff($1, $2)::bigint::text AS b', [
          await walLsn(),
          walBefore,
        ])
      ).rows[0]?.b ?? 0,
    );
    const rss = procStatus(product.consumer.child.pid, 'VmHWM');
    const synced = Number(
      (
        await db.query<{ n: string }>('SELECT count(*) AS n FROM messages WHERE account_id = $1', [
          account.id,
        ])
      ).rows[0]?.n,
    );
    if (synced !== messages) throw new Error(`synced ${synced} messages, expected ${messages}`);
    const size = await db.query<{ b: string }>(
      `SELECT (pg_total_relation_size('messages') + pg_total_relation_size('message_bodies'))::text AS b`,
    );
    const copy = await copyBaseline(db, account.id);
    const ours = synced / seconds;
    const copyRate = copy.rows / copy.seconds;
    return {
      messages: synced,
      seedSeconds: Number(seedSeconds.toFixed(1)),
      endToEnd: { seconds: Number(seconds.toFixed(1)), messagesPerSecond: Math.round(ours) },
      consumerRestRssBytes: restRss,
      consumerPeakRssBytes: rss,
      baselineCopy: {
        rows: copy.rows,
        seconds: Number(copy.seconds.toFixed(2)),
        rowsPerSecond: Math.round(copyRate),
        runsRowsPerSecond: copy.runsRowsPerSecond,
        schema: copy.schema,
        vectors: copy.vectors,
      },
      ratioToSchemaCopy: Number((ours / copy.schema.rowsPerSecond).toFixed(3)),
      ratio: Number((ours / copyRate).toFixed(3)),
      databaseBytes: Number(size.rows[0]?.b ?? 0),
      cpu: cpuFigures(split, synced),
      walBytesPerMessage: Math.round(walBytes / synced),
    };
  } finally {
    await db.end().catch(() => undefined);
    await product.stop();
  }
}

function cpuFigures(split: ReturnType<typeof cpuSplit>, messages: number): SizeRun['cpu'] {
  const seconds: Record<string, number> = {
    ...split.groups,
    other: split.other,
    machine: split.machine,
    available: split.available,
  };
  const round = (o: Record<string, number>, k: number) =>
    Object.fromEntries(Object.entries(o).map(([n, v]) => [n, Number(v.toFixed(k))]));
  const perMessage = Object.fromEntries(
    Object.entries(seconds)
      .filter(([n]) => n !== 'available')
      .map(([n, v]) => [n, (v * 1e6) / messages]),
  );
  return { seconds: round(seconds, 2), perMessageMicros: round(perMessage, 1), otherTop: split.otherTop };
}

const mb = (b: number) => `${(b / 1048576).toFixed(0)} MB`;

async function main(): Promise<void> {
  if (BUILT) buildConsumer();
  await globalSetup();
  try {
    const runs: SizeRun[] = [];
    for (const n of SIZES) runs.push(await runSize(n));
    const primary = runs.find((r) => r.messages === MESSAGES) ?? runs[0];
    if (!primary) throw new Error('no size ran');
    const largest = runs.reduce((a, b) => (b.messages > a.messages ? b : a));
    const flat = Number((largest.consumerPeakRssBytes / primary.consumerPeakRssBytes).toFixed(3));
    const results = {
      name: 'sync',
      date: new Date().toISOString(),
      cores: os.cpus().length,
      loadAverageAtEnd: os.loadavg()[0],
      consumerBuilt: BUILT,
      ...primary,
      consumerPeakRssAimBytes: RSS_AIM_BYTES,
      ratioAim: RATIO_AIM,
      peakRssLargestOverPrimary: flat,
      peakRssFlatAim: 1.1,
      growth: runs,
    };
    const rows = [
      [
        'messages',
        'link -> synced',
        'msg/s',
        'COPY rows/s',
        'ours / COPY',
        'consumer rest RSS',
        'peak RSS',
        'db size',
      ],
      ...runs.map((r) => [
        String(r.messages),
        `${r.endToEnd.seconds} s`,
        String(r.endToEnd.messagesPerSecond),
        `${r.baselineCopy.rowsPerSecond} (median of ${r.baselineCopy.runsRowsPerSecond.join(', ')})`,
        String(r.ratio),
        mb(r.consumerRestRssBytes),
        mb(r.consumerPeakRssBytes),
        mb(r.databaseBytes),
      ]),
      [],
      ['aims', `ours / COPY >= ${RATIO_AIM} at ${MESSAGES}`, '', '', '', '', 'peak < 300 MB', ''],
      [
        'flat',
        `peak at ${largest.messages} / peak at ${primary.messages} = ${flat}`,
        '(aim <= 1.1)',
        '',
        '',
        '',
        '',
        '',
      ],
      [],
      ...runs.map((r) => [
        `COPY, mirror's schema, ${r.messages}`,
        `${r.baselineCopy.schema.rowsPerSecond} rows/s (logged, every index)`,
        `ours / that ${r.ratioToSchemaCopy}`,
        '(not the aim)',
        `search vectors alone ${r.baselineCopy.vectors.microsPerMessage} µs/msg`,
        '',
        '',
        '',
      ]),
      [],
      ...runs.map((r) => {
        const us = r.cpu.perMessageMicros;
        const s = r.cpu.seconds;
        return [
          `CPU µs/msg at ${r.messages}`,
          `postgres ${us.postgres}`,
          `consumer ${us.consumer}`,
          `emulator ${us.emulator}`,
          `producer+kafka+redis ${((us.producer ?? 0) + (us.kafka ?? 0) + (us.redis ?? 0)).toFixed(1)}`,
          `other ${((us.other ?? 0) + (us.bench ?? 0)).toFixed(1)}`,
          `all cores busy ${s.machine} of ${s.available} s`,
          `WAL ${(r.walBytesPerMessage / 1024).toFixed(1)} KB/msg`,
        ];
      }),
    ];
    report('sync', rows, { ...results, ratio: primary.ratio });
  } finally {
    await globalTeardown();
  }
}

withEmulatorCa();
main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
