import { randomBytes } from 'node:crypto';
import { Cluster, type Redis } from 'ioredis';
import { Client } from 'pg';
import { createKafka } from '@email-core/kafka';
import type { StackEndpoints } from '@email-core/stack';

/** Everything one test run owns: its database, its topic prefix and its Redis key prefix. */
export interface TestRunInfo {
  id: string;
  databaseUrl: string;
  databaseName: string;
  /**
   * the same database on the stack's hot standby (streaming replication: rows written on `databaseUrl` appear here
   * after the replica's replay lag); present only when the stack has a replica (DATABASE_READ_URL)
   */
  databaseReadUrl?: string;
  adminDatabaseUrl: string;
  kafkaBrokers: string[];
  topicPrefix: string;
  redisClusterNodes: Array<{ host: string; port: number }>;
  redisKeyPrefix: string;
}

const DB_PREFIX = 'email_core_test_';
const STALE_MS = 6 * 3600 * 1000;

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function withAdmin<T>(adminUrl: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates a fresh, empty database for this run; its name always contains "test" so nothing else is ever touched. */
export async function createTestRun(endpoints: StackEndpoints): Promise<TestRunInfo> {
  const id = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const databaseName = `${DB_PREFIX}${id}`;
  const adminDatabaseUrl = withDatabase(endpoints.databaseUrl, 'postgres');
  await withAdmin(adminDatabaseUrl, async (c) => {
    await dropStaleDatabases(c);
    await c.query(`CREATE DATABASE "${databaseName}"`);
  });
  const databaseReadUrl = endpoints.databaseReadUrl
    ? withDatabase(endpoints.databaseReadUrl, databaseName)
    : undefined;
  return {
    id,
    databaseUrl: withDatabase(endpoints.databaseUrl, databaseName),
    databaseName,
    ...(databaseReadUrl ? { databaseReadUrl } : {}),
    adminDatabaseUrl,
    kafkaBrokers: endpoints.kafkaBrokers,
    topicPrefix: `test.${id}.`,
    redisClusterNodes: endpoints.redisClusterNodes,
    redisKeyPrefix: `test:${id}:`,
  };
}

/**
 * A run of its own inside `run`: a fresh database (named after the run, so stale-run cleanup finds it) and topic
 * and key prefixes under the run's (so the run's teardown removes them). For a product whose background work
 * (sweeps over every account, consumer groups) must not see other test files' leftovers. `drop()` removes the
 * database; call it after every process using it has stopped.
 */
export async function createChildRun(run: TestRunInfo): Promise<TestRunInfo & { drop(): Promise<void> }> {
  const child = randomBytes(3).toString('hex');
  const databaseName = `${run.databaseName}_${child}`;
  await withAdmin(run.adminDatabaseUrl, (c) => c.query(`CREATE DATABASE "${databaseName}"`));
  const databaseReadUrl = run.databaseReadUrl ? withDatabase(run.databaseReadUrl, databaseName) : undefined;
  return {
    ...run,
    id: `${run.id}_${child}`,
    databaseName,
    databaseUrl: withDatabase(run.databaseUrl, databaseName),
    databaseReadUrl,
    topicPrefix: `${run.topicPrefix}${child}.`,
    redisKeyPrefix: `${run.redisKeyPrefix}${child}:`,
    drop: () =>
      withAdmin(run.adminDatabaseUrl, async (c) => {
        await c.query(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`);
      }),
  };
}

/**
 * A database just created on the primary can be opened on the replica once the replica has replayed its creation.
 * Only tests that read the replica wait for it (startProduct with `replica`): one test pauses the shared replica's
 * replay for half a minute (test/e2e/read-replica), which must not hold up every other test's run.
 */
export async function waitForReplicaDatabase(url: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    try {
      await client.connect();
      return;
    } catch (err) {
      // 3D000: the database does not exist on the replica yet
      if ((err as { code?: string }).code !== '3D000' || Date.now() > deadline) throw err;
    } finally {
      await client.end().catch(() => undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Runs that crashed leave their database behind; the next run clears any older than six hours. */
async function dropStaleDatabases(c: Client): Promise<void> {
  const { rows } = await c.query<{ datname: string }>(
    `SELECT datname FROM pg_database WHERE datname LIKE $1`,
    [`${DB_PREFIX}%`],
  );
  for (const { datname } of rows) {
    const created = parseInt(datname.slice(DB_PREFIX.length, DB_PREFIX.length + 8), 36);
    if (Number.isFinite(created) && Date.now() - created > STALE_MS) {
      await c.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    }
  }
}

/**
 * The environment a process under test gets: the run's own database, topic prefix and key prefix. The replica's
 * URL travels as TEST_DATABASE_READ_URL (for the jest workers' currentTestRun()), never as DATABASE_READ_URL: a
 * spawned app reads the primary unless its test opts in to the replica.
 */
export function testRunEnv(run: TestRunInfo): Record<string, string> {
  return {
    DATABASE_URL: run.databaseUrl,
    ...(run.databaseReadUrl ? { TEST_DATABASE_READ_URL: run.databaseReadUrl } : {}),
    KAFKA_BROKERS: run.kafkaBrokers.join(','),
    KAFKA_TOPIC_PREFIX: run.topicPrefix,
    REDIS_CLUSTER_NODES: run.redisClusterNodes.map((n) => `${n.host}:${n.port}`).join(','),
    REDIS_KEY_PREFIX: run.redisKeyPrefix,
    TEST_RUN_ID: run.id,
    TEST_ADMIN_DATABASE_URL: run.adminDatabaseUrl,
  };
}

/** Reads the run a global setup published into the environment. */
export function currentTestRun(): TestRunInfo {
  const e = process.env;
  if (
    !e.TEST_RUN_ID ||
    !e.DATABASE_URL ||
    !e.KAFKA_BROKERS ||
    !e.REDIS_CLUSTER_NODES ||
    !e.TEST_ADMIN_DATABASE_URL
  ) {
    throw new Error(
      'No test run in the environment: integration tests run through `npm test` (jest global setup)',
    );
  }
  const databaseName = new URL(e.DATABASE_URL).pathname.slice(1);
  if (!databaseName.includes('test')) throw new Error(`Refusing to run against database "${databaseName}"`);
  return {
    id: e.TEST_RUN_ID,
    databaseUrl: e.DATABASE_URL,
    databaseName,
    ...(e.TEST_DATABASE_READ_URL ? { databaseReadUrl: e.TEST_DATABASE_READ_URL } : {}),
    adminDatabaseUrl: e.TEST_ADMIN_DATABASE_URL,
    kafkaBrokers: e.KAFKA_BROKERS.split(','),
    topicPrefix: e.KAFKA_TOPIC_PREFIX ?? '',
    redisClusterNodes: e.REDIS_CLUSTER_NODES.split(',').map((x) => {
      const i = x.lastIndexOf(':');
      return { host: x.slice(0, i), port: Number(x.slice(i + 1)) };
    }),
    redisKeyPrefix: e.REDIS_KEY_PREFIX ?? '',
  };
}

/** Drops the run's database, deletes its topics and its Redis keys. */
export async function disposeTestRun(run: TestRunInfo): Promise<void> {
  await withAdmin(run.adminDatabaseUrl, (c) =>
    c.query(`DROP DATABASE IF EXISTS "${run.databaseName}" WITH (FORCE)`),
  );

  const admin = createKafka({ brokers: run.kafkaBrokers, clientId: 'email-core-test-cleanup' }).admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(run.topicPrefix));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 10000 });
    const groups = (await admin.listGroups()).groups
      .map((g) => g.groupId)
      .filter((g) => g.startsWith(run.topicPrefix));
    if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }

  const cluster = new Cluster(run.redisClusterNodes, { lazyConnect: true });
  try {
    await cluster.connect();
    for (const node of cluster.nodes('master')) await deleteByPrefix(node, run.redisKeyPrefix);
  } finally {
    cluster.disconnect();
  }
}

async function deleteByPrefix(node: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    for (const key of keys) await node.del(key);
  } while (cursor !== '0');
}
