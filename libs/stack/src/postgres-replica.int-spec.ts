/**
 * The stack's streaming replica, for real: a table created and a row inserted on the primary (in a fresh database
 * of this test run, never email_core) can be read on the hot standby within a few seconds; the standby says it is
 * in recovery and refuses writes (25006, read_only_sql_transaction). Skipped where the stack has no replica
 * (DATABASE_URL from the environment without DATABASE_READ_URL, or Postgres from testcontainers).
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

withReplica(`the stack's streaming replica${run.databaseReadUrl ? '' : ' (skipped: no replica)'}`, () => {
  // a fresh database of its own, named after the run (so a crashed run's leftover is cleared like the run's)
  const databaseName = `${run.databaseName}_replica_${randomBytes(3).toString('hex')}`;
  const primaryUrl = withDatabase(run.databaseUrl, databaseName);
  const replicaUrl = withDatabase(run.databaseReadUrl ?? run.databaseUrl, databaseName);
  let primary: Client;
  let replica: Client;

  beforeAll(async () => {
    expect(new URL(run.databaseReadUrl ?? '').pathname).toBe(`/${run.databaseName}`);
    const admin = await connect(run.adminDatabaseUrl);
    try {
      await admin.query(`create database "${databaseName}"`);
    } finally {
      await admin.end();
    }
    primary = await connect(primaryUrl);
    const created = Date.now();
    for (;;) {
      try {
        replica = await connect(replicaUrl);
        break;
      } catch (err) {
        // 3D000: the database's creation not replayed on the standby yet
        if ((err as { code?: string }).code !== '3D000' || Date.now() - created > 5000) throw err;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  });

  afterAll(async () => {
    await primary?.end().catch(() => undefined);
    await replica?.end().catch(() => undefined);
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

  it('shows a row written on the primary within a few seconds', async () => {
    const value = randomBytes(8).toString('hex');
    await primary.query('create table replica_probe (id serial primary key, value text not null)');
    await primary.query('insert into replica_probe (value) values ($1)', [value]);
    const written = Date.now();
    let seen: string | undefined;
    while (Date.now() - written < 5000) {
      try {
        const { rows } = await replica.query<{ value: string }>('select value from replica_probe');
        seen = rows[0]?.value;
      } catch (err) {
        if ((err as { code?: string }).code !== '42P01') throw err; // the table not replayed yet
      }
      if (seen === value) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(seen).toBe(value);
    const health = await checkReplica(primaryUrl, replicaUrl);
    expect(health.healthy).toBe(true);
    expect(health.detail).toMatch(/^in recovery, replay lag \d+(\.\d)? (B|kB|MB) \/ \d+\.\d s$/);
  });

  it('refuses writes', async () => {
    await expect(replica.query('create table refused (id int)')).rejects.toMatchObject({ code: '25006' });
    await expect(replica.query('insert into replica_probe (value) values ($1)', ['x'])).rejects.toMatchObject(
      {
        code: '25006',
      },
    );
  });
});
