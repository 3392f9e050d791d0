import { currentTestRun } from '@email-core/testing';
import { createDataSource } from './data-source';
import { inGenericPlanTransaction } from './generic-plan-transaction';
import { prepared, useGenericPlans } from './prepared';
import { parseLsn } from './read-replica/lsn';

/** A live page's transaction: generic plans from its first statement, the WAL position with its commit (real Postgres). */
describe('inGenericPlanTransaction (real Postgres)', () => {
  const run = currentTestRun();
  // one connection: every statement below, the transaction's and the checks', runs on the same session
  const dataSource = createDataSource({ url: run.databaseUrl, poolSize: 1 });
  const LOOKUP = prepared(
    'SELECT count(*)::int AS n FROM unnest($1::int[]) AS t(v) -- generic-plan-transaction',
  );
  const table = `gpt_${process.pid}`;

  const plans = async () => {
    const rows = await dataSource.query<Array<{ generic_plans: string; custom_plans: string }>>(
      `SELECT generic_plans::text, custom_plans::text FROM pg_prepared_statements WHERE statement = $1`,
      [LOOKUP],
    );
    return { generic: Number(rows[0]?.generic_plans ?? 0), custom: Number(rows[0]?.custom_plans ?? 0) };
  };
  const rows = async () =>
    (await dataSource.query<Array<{ v: string }>>(`SELECT v FROM ${table} ORDER BY v`)).map((r) => r.v);
  const walNow = async () =>
    parseLsn(
      (await dataSource.query<Array<{ lsn: string }>>(`SELECT pg_current_wal_lsn()::text AS lsn`))[0].lsn,
    );

  beforeAll(async () => {
    await dataSource.initialize();
    await dataSource.query(
      `CREATE TABLE ${table} (v text NOT NULL, CONSTRAINT ${table}_v UNIQUE (v) DEFERRABLE INITIALLY DEFERRED)`,
    );
  });
  afterAll(async () => {
    await dataSource.query(`DROP TABLE IF EXISTS ${table}`);
    await dataSource.destroy();
  });
  beforeEach(async () => {
    await dataSource.query(`TRUNCATE ${table}`);
  });

  it('commits what it wrote, with the WAL position at or past its commit, its plans generic only inside', async () => {
    const before = await walNow();
    const { value, walPosition } = await inGenericPlanTransaction(dataSource, async (m) => {
      expect(m.queryRunner?.isTransactionActive).toBe(true);
      const [mode] = await m.query<Array<{ mode: string }>>(
        `SELECT current_setting('plan_cache_mode') AS mode`,
      );
      await useGenericPlans(m); // already so: nothing sent, and nothing changes
      await m.query(`INSERT INTO ${table} (v) VALUES ($1)`, ['a']);
      const counted = await m.query<Array<{ n: number }>>(LOOKUP, [[1, 2, 3]]);
      return { mode: mode.mode, n: counted[0].n };
    });
    expect(value).toEqual({ mode: 'force_generic_plan', n: 3 });
    expect(await rows()).toEqual(['a']);
    expect(walPosition).toBeGreaterThan(before);
    expect(walPosition).toBeLessThanOrEqual(await walNow());
    expect(await plans()).toEqual({ generic: 1, custom: 0 });
    // the connection's next statements plan as Postgres chooses again (SET LOCAL ended with the transaction)
    expect(await dataSource.query(`SELECT current_setting('plan_cache_mode') AS mode`)).toEqual([
      { mode: 'auto' },
    ]);
    await dataSource.query(LOOKUP, [[1]]);
    expect(await plans()).toEqual({ generic: 1, custom: 1 });
  });

  it('rolls back and rethrows a failure of its work, and the connection goes on working', async () => {
    const failure = await inGenericPlanTransaction(dataSource, async (m) => {
      await m.query(`INSERT INTO ${table} (v) VALUES ($1)`, ['lost']);
      throw new Error('the page failed');
    }).catch((e: unknown) => e);
    expect(failure).toEqual(new Error('the page failed'));
    expect(await rows()).toEqual([]);
    expect(await dataSource.query(`SELECT 1 AS one`)).toEqual([{ one: 1 }]);
  });

  it('rolls back and rethrows a failure at the commit (a deferred constraint), nothing half-written', async () => {
    const failure = await inGenericPlanTransaction(dataSource, async (m) => {
      await m.query(`INSERT INTO ${table} (v) VALUES ('x'), ('y'), ('x')`);
    }).catch((e: unknown) => e as { code?: string });
    expect(failure).toMatchObject({ code: '23505' });
    expect(await rows()).toEqual([]);
    const { walPosition } = await inGenericPlanTransaction(dataSource, (m) =>
      m.query(`INSERT INTO ${table} (v) VALUES ('z')`),
    );
    expect(walPosition).toBeDefined();
    expect(await rows()).toEqual(['z']);
  });

  it('is a transaction to TypeORM too: a transaction inside it is a savepoint, undone with it', async () => {
    const failure = await inGenericPlanTransaction(dataSource, async (m) => {
      await m.transaction((inner) => inner.query(`INSERT INTO ${table} (v) VALUES ('inner')`));
      expect(m.queryRunner?.isTransactionActive).toBe(true);
      throw new Error('after the inner one');
    }).catch((e: unknown) => e);
    expect(failure).toEqual(new Error('after the inner one'));
    expect(await rows()).toEqual([]);
  });
});
