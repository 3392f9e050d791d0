/**
 * The stack's streaming replica, for real: a table created and a row inserted on the primary (in a fresh database
 * of this test run, never email_core) can be read on the hot standby within a few seconds; the standby says it is
 * in recovery and refuses writes (25006, read_only_sql_transaction). Skipped where the stack has no replica
 * (DATABASE_URL from the environment without DATABASE_READ_URL, or Postgres from testcontainers).
 *
 * The replica is shared: another test file (test/e2e/read-replica) pauses its replay for a while
 * (pg_wal_replay_pause). The few seconds allowed start when the replay runs: while the replica says
 * pg_is_wal_replay_paused(), the waits keep waiting (up to 2 minutes).
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { currentTestRun } from '@email-core/testing';
import { checkReplica } from './postgres';

const run = currentTestRun();
const withReplica = run.databaseReadUrl ? describe : describe.skip;

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function connect(url: string): Promise<Client> {
  const c = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await c.connect();
  return c;
}

const REPLAY_MS = 5000;
const PAUSED_MAX_MS = 120_000;

/**
 * Polls `attempt` until it returns a value. It has REPLAY_MS of running replay to do so: while the replica's replay
 * is paused (by another test file), the clock restarts, up to PAUSED_MAX_MS in all.
 */
async function onReplica<T>(
  replicaAdmin: Client,
  what: string,
  attempt: () => Promise<T | undefined>,
): Promise<{ value: T; ms: number; pausedMs: number }> {
  const started = Date.now();
  let clock = started;
  let pausedMs = 0;
  for (;;) {
    const value = await attempt();
    if (value !== undefined) return { value, ms: Date.now() - clock, pausedMs };
    const { rows } = await replicaAdmin.query<{ paused: boolean }>(
      'select pg_is_wal_replay_paused() as paused',
    );
    const now = Date.now();
    if (rows[0]?.paused && now - started < PAUSED_MAX_MS) {
      pausedMs += now - clock;
      clock = now;
    } else if (now - clock > REPLAY_MS) {
      throw new Error(`${what}: not on the replica ${REPLAY_MS} ms after the write (replay running)`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

withReplica(`the stack's streaming replica${run.databaseReadUrl ? '' : ' (skipped: no replica)'}`, () => {
  // a fresh database of its own, named after the run (so a crashed run's leftover is cleared like the run's)
  const databaseName = `${run.databaseName}_replica_${randomBytes(3).toString('hex')}`;
  const primaryUrl = withDatabase(run.databaseUrl, databaseName);
  const replicaUrl = withDatabase(run.databaseReadUrl ?? run.databaseUrl, databaseName);
  let primary: Client;
  let replica: Client;
  let replicaAdmin: Client;

  beforeAll(async () => {
    expect(new URL(run.databaseReadUrl ?? '').pathname).toBe(`/${run.databaseName}`);
    const admin = await connect(run.adminDatabaseUrl);
    try {
      await admin.query(`create database "${databaseName}"`);
    } finally {
      await admin.end();
    }
    primary = await connect(primaryUrl);
    replicaAdmin = await connect(withDatabase(run.databaseReadUrl ?? '', 'postgres'));
    const opened = await onReplica(replicaAdmin, `database ${databaseName}`, async () => {
      try {
        return await connect(replicaUrl);
      } catch (err) {
        // 3D000: the database's creation not replayed on the standby yet
        if ((err as { code?: string }).code === '3D000') return undefined;
        throw err;
      }
    });
    replica = opened.value;
  }, PAUSED_MAX_MS + 30_000);

  afterAll(async () => {
    await primary?.end().catch(() => undefined);
    await replica?.end().catch(() => undefined);
    await replicaAdmin?.end().catch(() => undefined);
    const admin = await connect(run.adminDatabaseUrl);
    try {
      await admin.query(`drop database if exists "${databaseName}" with (force)`);
    } finally {
      await admin.end();
    }
  });

  it('is a hot standby of the primary', async () => {
    const { rows } = await replica.query<{ r: boolean }>('select pg_is_in_recovery() as r');
    expect(rows[0].r).toBe(true);
    const p = await primary.query<{ r: boolean }>('select pg_is_in_recovery() as r');
    expect(p.rows[0].r).toBe(false);
  });

  it(
    'shows a row written on the primary within a few seconds',
    async () => {
      const value = randomBytes(8).toString('hex');
      await primary.query('create table replica_probe (id serial primary key, value text not null)');
      await primary.query('insert into replica_probe (value) values ($1)', [value]);
      const seen = await onReplica(replicaAdmin, 'the row', async () => {
        try {
          const { rows } = await replica.query<{ value: string }>('select value from replica_probe');
          return rows[0]?.value === value ? value : undefined;
        } catch (err) {
          if ((err as { code?: string }).code === '42P01') return undefined; // the table not replayed yet
          throw err;
        }
      });
      expect(seen.value).toBe(value);
      expect(seen.ms).toBeLessThanOrEqual(REPLAY_MS + 1000);
      const health = await checkReplica(primaryUrl, replicaUrl);
      expect(health.healthy).toBe(true);
      expect(health.detail).toMatch(/^in recovery, replay lag \d+(\.\d)? (B|kB|MB) \/ \d+\.\d s$/);
    },
    PAUSED_MAX_MS + 30_000,
  );

  it('refuses writes', async () => {
    await expect(replica.query('create table refused (id int)')).rejects.toMatchObject({ code: '25006' });
    await expect(replica.query('insert into replica_probe (value) values ($1)', ['x'])).rejects.toMatchObject(
      {
        code: '25006',
      },
    );
  });
});
