import { QueryFailedError } from 'typeorm';
import { currentTestRun } from '@email-core/testing';
import { createDataSource } from './data-source';
import { prepared, preparedName, useGenericPlans } from './prepared';

interface PreparedRow {
  name: string;
  statement: string;
  generic_plans: string;
  custom_plans: string;
}

/** Statements marked with `prepared()` are named prepared statements on the product's connections (real Postgres). */
describe('prepared statements (real Postgres)', () => {
  const run = currentTestRun();
  // one connection, so the session's pg_prepared_statements is the one the statements ran on
  const dataSource = createDataSource({ url: run.databaseUrl, poolSize: 1 });
  const MARKED = prepared('SELECT $1::int + 1 AS n');
  const DIVIDE = prepared('SELECT 10 / $1::int AS n');
  const UNMARKED = 'SELECT $1::int + 2 AS n';

  const preparedStatements = () =>
    dataSource.query<PreparedRow[]>(
      `SELECT name, statement, generic_plans::text, custom_plans::text FROM pg_prepared_statements`,
    );

  beforeAll(async () => {
    await dataSource.initialize();
  });
  afterAll(async () => {
    await dataSource.destroy();
  });

  it('runs a marked statement under its name, parsed once, and answers as a plain query would', async () => {
    const answers: number[] = [];
    for (let i = 0; i < 7; i++) {
      const rows = await dataSource.query<Array<{ n: number }>>(MARKED, [i]);
      answers.push(rows[0].n);
    }
    expect(answers).toEqual([1, 2, 3, 4, 5, 6, 7]);
    const rows = await preparedStatements();
    const mine = rows.find((r) => r.statement === MARKED);
    expect(mine?.name).toBe(preparedName(MARKED));
    // one statement for all seven runs, planned on each (custom) or once for all that followed (generic)
    expect(Number(mine?.generic_plans) + Number(mine?.custom_plans)).toBe(7);
  });

  it('sends an unmarked statement as it is', async () => {
    expect(await dataSource.query(UNMARKED, [1])).toEqual([{ n: 3 }]);
    expect(preparedName(UNMARKED)).toBeUndefined();
    const rows = await preparedStatements();
    expect(rows.map((r) => r.statement)).not.toContain(UNMARKED);
  });

  it('fails as TypeORM fails a plain query, and the statement and the connection go on working', async () => {
    const failure: unknown = await dataSource.query<unknown>(DIVIDE, [0]).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(QueryFailedError);
    expect((failure as QueryFailedError & { driverError: { code: string } }).driverError.code).toBe('22012');
    expect(await dataSource.query(DIVIDE, [5])).toEqual([{ n: 2 }]);
  });

  it('runs inside a transaction, whose rollback keeps the statement prepared', async () => {
    await expect(
      dataSource.transaction(async (m) => {
        expect(await m.query(MARKED, [41])).toEqual([{ n: 42 }]);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await dataSource.query(MARKED, [99])).toEqual([{ n: 100 }]);
    const rows = await preparedStatements();
    expect(rows.filter((r) => r.statement === MARKED)).toHaveLength(1);
  });

  it('runs generic plans for the rest of a transaction after useGenericPlans, custom plans again after it', async () => {
    const LOOKUP = prepared('SELECT count(*)::int AS n FROM generate_series(1, $1::int)');
    const plans = async () => {
      const row = (await preparedStatements()).find((r) => r.statement === LOOKUP);
      return { generic: Number(row?.generic_plans ?? 0), custom: Number(row?.custom_plans ?? 0) };
    };
    await dataSource.query(LOOKUP, [3]);
    expect(await plans()).toEqual({ generic: 0, custom: 1 });
    await dataSource.transaction(async (m) => {
      await useGenericPlans(m);
      expect(await m.query(LOOKUP, [4])).toEqual([{ n: 4 }]);
      expect(await m.query(LOOKUP, [5])).toEqual([{ n: 5 }]);
    });
    expect(await plans()).toEqual({ generic: 2, custom: 1 });
    // SET LOCAL: the connection's next transactions plan as Postgres chooses again
    await dataSource.query(LOOKUP, [6]);
    expect(await plans()).toEqual({ generic: 2, custom: 2 });
  });

  it('goes generic after five custom plans when left to Postgres (auto), which a sync page is not', async () => {
    const LEFT = prepared('SELECT count(*)::int AS n FROM unnest($1::int[]) AS t(v)');
    const big = Array.from({ length: 500 }, (_, i) => i);
    for (let i = 0; i < 8; i++) expect(await dataSource.query(LEFT, [big])).toEqual([{ n: 500 }]);
    const left = (await preparedStatements()).find((r) => r.statement === LEFT);
    expect(Number(left?.custom_plans)).toBe(5);
    expect(Number(left?.generic_plans)).toBe(3);
  });

  it('sends marked statements as they are when prepared statements are off (DATABASE_PREPARED_STATEMENTS=false)', async () => {
    const plain = createDataSource({ url: run.databaseUrl, poolSize: 1, preparedStatements: false });
    await plain.initialize();
    try {
      expect(await plain.query(MARKED, [1])).toEqual([{ n: 2 }]);
      expect(await plain.query(`SELECT count(*)::int AS n FROM pg_prepared_statements`)).toEqual([{ n: 0 }]);
    } finally {
      await plain.destroy();
    }
  });
});
