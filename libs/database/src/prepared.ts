import { createHash } from 'node:crypto';
import { Client } from 'pg';
import type { EntityManager, QueryRunner } from 'typeorm';

/** statement text -> its prepared statement's name (the same on every connection) */
const names = new Map<string, string>();

/**
 * Marks a statement as one every connection prepares once and then only binds and executes: Postgres parses,
 * analyzes and plans it once per connection, and after five executions keeps a generic plan when that costs no
 * more than the custom ones (`plan_cache_mode = auto`). For the statements a live round runs for every change:
 * with each sent as text, parsing and planning were half of the database backends' CPU in bench:scale's change
 * phase (docs/performance.md, session 28). Returns the text unchanged, so a marked constant is used as before
 * (`manager.query(SQL, params)`): only the connection's client (PreparingClient) tells it apart.
 *
 * Only for fixed texts (a constant, or one of a function's few variants): each distinct text is one prepared
 * statement per connection for the connection's life. Not for `SELECT *` (a column added by a migration while a
 * connection lives would change a prepared statement's result type, which Postgres refuses), nor behind a pooler
 * in transaction mode (PgBouncer before 1.21), which does not keep a connection's prepared statements.
 */
export function prepared(text: string): string {
  if (!names.has(text)) {
    names.set(text, `ec_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`);
  }
  return text;
}

/** the prepared statement's name of a marked text, or undefined (exposed for tests) */
export function preparedName(text: string): string | undefined {
  return names.get(text);
}

type QueryFn = (this: Client, ...args: unknown[]) => unknown;
const baseQuery = (Client.prototype as unknown as { query: QueryFn }).query;

/**
 * The pool's client (TypeORM passes it to pg-pool as `extra.Client`): a query whose text was marked with
 * `prepared()` goes out as a named statement (`{ name, text, values }`: pg parses it once per connection and
 * binds it from then on); every other query exactly as given.
 */
export class PreparingClient extends Client {}

(PreparingClient.prototype as unknown as { query: QueryFn }).query = function query(
  this: Client,
  ...args: unknown[]
): unknown {
  const [text, values] = args;
  if (typeof text === 'string' && (values === undefined || Array.isArray(values))) {
    const name = names.get(text);
    if (name !== undefined) {
      const rest = args.slice(2);
      return baseQuery.call(this, { name, text, values: values ?? [] }, ...rest);
    }
  }
  return baseQuery.apply(this, args);
};

/**
 * For the rest of the caller's transaction, prepared statements run their generic plan (planned once per
 * connection) instead of a custom plan for each execution's values. Postgres' own choice (`plan_cache_mode =
 * auto`) keeps planning statements with array parameters every time: a custom plan knows the arrays' lengths, so
 * for a live round's few rows it always looks cheaper than the generic plan's default estimate. For statements
 * whose plan does not depend on their values (the page statements probe by primary key, with the account as an
 * init-plan parameter). One SET per transaction.
 */
export async function useGenericPlans(manager: EntityManager): Promise<void> {
  if (manager.queryRunner && genericPlanRunners.has(manager.queryRunner)) return;
  await manager.query(GENERIC_PLANS_SQL);
}

/** the statement behind `useGenericPlans`, for a transaction that opens with it (`inGenericPlanTransaction`) */
export const GENERIC_PLANS_SQL = 'SET LOCAL plan_cache_mode = force_generic_plan';

/** runners whose transaction was opened with its generic plans (`inGenericPlanTransaction`) */
const genericPlanRunners = new WeakSet<QueryRunner>();

/**
 * Marks `runner`'s open transaction as one that already runs generic plans, so `useGenericPlans` in it sends
 * nothing; answers how to unmark it, which its opener does when the transaction ends.
 */
export function markGenericPlans(runner: QueryRunner): () => void {
  genericPlanRunners.add(runner);
  return () => genericPlanRunners.delete(runner);
}
