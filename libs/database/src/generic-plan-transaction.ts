import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { GENERIC_PLANS_SQL, markGenericPlans } from './prepared';
import { WAL_POSITION_SQL } from './read-replica/account-writes';
import { parseLsn } from './read-replica/lsn';

/** one simple query (two statements, one round trip): the transaction, and its generic plans */
const BEGIN_WITH_GENERIC_PLANS = `START TRANSACTION; ${GENERIC_PLANS_SQL}`;
/**
 * One simple query: the commit, then the primary's WAL position, read after the commit has returned, so at or
 * beyond its commit record (what `currentWalPosition` reads on another connection, one round trip more).
 */
const COMMIT_WITH_POSITION = `COMMIT; ${WAL_POSITION_SQL}`;

/** what a simple query of several statements answers through pg: one result per statement */
interface PgResult {
  rows: Array<Record<string, unknown>>;
}
interface PgClient {
  query(text: string): Promise<PgResult | PgResult[]>;
}

/** TypeORM's view of the runner's transaction (BaseQueryRunner's own fields), kept true to the connection's */
interface TransactionState {
  isTransactionActive: boolean;
  transactionDepth: number;
}

export interface CommittedWithPosition<T> {
  value: T;
  /** the primary's WAL position after the commit; undefined when it could not be read (the caller reads it) */
  walPosition: number | undefined;
}

/**
 * `work` in one transaction whose prepared statements run their generic plans (`useGenericPlans` is then a
 * no-op in it), committed with the WAL position read in the same round trip: two round trips fewer than
 * `DataSource.transaction` + `useGenericPlans` + `currentWalPosition`, for a live round's page, whose dozen
 * statements per change put a third of the consumer's CPU in socket writes (docs/performance.md, session 29).
 *
 * It is a TypeORM transaction in all but the opening and closing statements: TypeORM's runner knows it is in one
 * (a `save` or `transaction` inside takes a savepoint, as in `DataSource.transaction`), and a failure in `work` or
 * at the commit rolls back and is rethrown (a rollback that fails is ignored, as `DataSource.transaction` does: a
 * connection that broke is dropped by the pool on its error).
 */
export async function inGenericPlanTransaction<T>(
  dataSource: DataSource,
  work: (manager: EntityManager) => Promise<T>,
): Promise<CommittedWithPosition<T>> {
  const runner = dataSource.createQueryRunner();
  const state = runner as QueryRunner & TransactionState;
  try {
    const client = (await runner.connect()) as PgClient;
    await client.query(BEGIN_WITH_GENERIC_PLANS);
    state.isTransactionActive = true;
    state.transactionDepth = 1;
    const unmark = markGenericPlans(runner);
    try {
      const value = await work(runner.manager);
      const answered = await client.query(COMMIT_WITH_POSITION);
      state.isTransactionActive = false;
      state.transactionDepth = 0;
      return { value, walPosition: positionIn(answered) };
    } catch (err) {
      if (state.isTransactionActive) {
        state.isTransactionActive = false;
        state.transactionDepth = 0;
        // after a failed COMMIT there is no transaction left: ROLLBACK only warns
        await client.query('ROLLBACK').catch(() => undefined);
      }
      throw err;
    } finally {
      unmark();
    }
  } finally {
    await runner.release();
  }
}

/** the WAL position `COMMIT_WITH_POSITION` answered, or undefined (never a throw: the commit has happened) */
function positionIn(answered: PgResult | PgResult[]): number | undefined {
  const lsn = Array.isArray(answered) ? answered[1]?.rows[0]?.lsn : undefined;
  try {
    return typeof lsn === 'string' ? parseLsn(lsn) : undefined;
  } catch {
    return undefined;
  }
}
