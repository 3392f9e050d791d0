import { Client } from 'pg';
import { waitFor, type Log } from './process';
import { redactUrl } from './state';

/** One short-lived connection, one query. */
export async function queryRows<T = Record<string, unknown>>(
  url: string,
  sql: string,
  params: string[] = [],
  timeoutMs = 3000,
): Promise<T[]> {
  const client = new Client({
    connectionString: url,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const res = await client.query(sql, params);
    return res.rows as T[];
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function waitReady(url: string, timeoutMs: number): Promise<true> {
  return waitFor(
    `PostgreSQL at ${redactUrl(url)}`,
    async () => ((await queryRows(url, 'select 1')).length === 1 ? true : undefined),
    { timeoutMs },
  );
}

/** Creates database `name` through `adminUrl` if it is missing. */
export async function ensureDatabase(adminUrl: string, name: string, log: Log): Promise<void> {
  const rows = await queryRows(adminUrl, 'select 1 from pg_database where datname = $1', [name]);
  if (rows.length > 0) return;
  try {
    await queryRows(adminUrl, `create database "${name}"`, [], 30_000);
    log(`postgres: created database ${name}`);
  } catch (err) {
    if ((err as { code?: string }).code !== '42P04') throw err; // 42P04: created concurrently
  }
}
