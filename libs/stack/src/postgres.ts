import * as fs from 'node:fs';
import { Client } from 'pg';
import { composeUp, dockerAvailable } from './docker';
import { commandExists, errorMessage, run, tcpAnswers, waitFor, type Log } from './process';
import { StackUnavailableError, type ServiceHealth, type ServiceUp } from './service';
import { readState, redactUrl, updateState, type StackState } from './state';

const HOST = '127.0.0.1';
const PORT = 5432;
const DB_NAME = 'email_core';
export const DEFAULT_DATABASE_URL = `postgres://postgres@${HOST}:${PORT}/${DB_NAME}`;
const ADMIN_URL = `postgres://postgres@${HOST}:${PORT}/postgres`;

async function queryRows(
  url: string,
  sql: string,
  params: string[] = [],
  timeoutMs = 3000,
): Promise<unknown[]> {
  const client = new Client({
    connectionString: url,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const res = await client.query(sql, params);
    return res.rows as unknown[];
  } finally {
    await client.end().catch(() => undefined);
  }
}

function waitReady(url: string, timeoutMs: number): Promise<true> {
  return waitFor(
    `PostgreSQL at ${redactUrl(url)}`,
    async () => ((await queryRows(url, 'select 1')).length === 1 ? true : undefined),
    {
      timeoutMs,
    },
  );
}

/** Creates the project database on the local server if it is missing. */
async function ensureDatabase(log: Log): Promise<void> {
  const rows = await queryRows(ADMIN_URL, 'select 1 from pg_database where datname = $1', [DB_NAME]);
  if (rows.length > 0) return;
  try {
    await queryRows(ADMIN_URL, `create database "${DB_NAME}"`, [], 30_000);
    log(`postgres: created database ${DB_NAME}`);
  } catch (err) {
    if ((err as { code?: string }).code !== '42P04') throw err; // 42P04: created concurrently
  }
}

function localCluster(): { version: string; name: string } | undefined {
  if (!commandExists('pg_ctlcluster')) return undefined;
  let versions: string[];
  try {
    versions = fs.readdirSync('/etc/postgresql').sort((a, b) => Number(b) - Number(a));
  } catch {
    return undefined;
  }
  const version = versions.find((v) => fs.existsSync(`/etc/postgresql/${v}/main`));
  return version ? { version, name: 'main' } : undefined;
}

export async function ensurePostgres(log: Log): Promise<ServiceUp<string>> {
  const fromEnv = process.env.DATABASE_URL;
  if (fromEnv) {
    await waitReady(fromEnv, 30_000);
    return { endpoint: fromEnv, source: 'env', detail: 'from DATABASE_URL' };
  }

  const state = readState();
  if (await tcpAnswers(HOST, PORT)) {
    await waitReady(ADMIN_URL, 30_000);
    await ensureDatabase(log);
    const ours = state.dockerComposeFiles?.some((f) => f.endsWith('docker-compose.pg.yml'));
    const source = ours ? 'docker' : state.postgres ? 'local-started' : 'local-existing';
    return { endpoint: DEFAULT_DATABASE_URL, source, detail: 'reused (already running)' };
  }

  if (await dockerAvailable()) {
    log('postgres: starting docker-compose.pg.yml');
    await composeUp('docker-compose.pg.yml');
    await waitReady(ADMIN_URL, 90_000);
    await ensureDatabase(log);
    return {
      endpoint: DEFAULT_DATABASE_URL,
      source: 'docker',
      detail: 'docker compose -f docker-compose.pg.yml',
    };
  }

  const cluster = localCluster();
  if (!cluster) {
    throw new StackUnavailableError(
      `PostgreSQL: nothing answers on ${HOST}:${PORT}, no Docker engine, and no local cluster to start. ` +
        'Install it (apt-get install postgresql), start Docker, or set DATABASE_URL.',
    );
  }
  log(`postgres: starting local cluster ${cluster.version}/${cluster.name}`);
  const r = await run(
    'pg_ctlcluster',
    ['--skip-systemctl-redirect', cluster.version, cluster.name, 'start'],
    { timeoutMs: 60_000 },
  );
  if (r.code !== 0)
    throw new Error(
      `pg_ctlcluster ${cluster.version} ${cluster.name} start failed: ${(r.stderr || r.stdout).trim()}`,
    );
  updateState((s) => {
    s.postgres = { startedCluster: cluster };
  });
  await waitReady(ADMIN_URL, 30_000);
  await ensureDatabase(log);
  return {
    endpoint: DEFAULT_DATABASE_URL,
    source: 'local-started',
    detail: `pg_ctlcluster ${cluster.version} ${cluster.name}`,
  };
}

export async function checkPostgres(url: string): Promise<ServiceHealth> {
  try {
    await queryRows(url, 'select 1');
    return { healthy: true, detail: 'select 1 ok' };
  } catch (err) {
    return { healthy: false, detail: errorMessage(err) };
  }
}

/** Stops the local cluster only if this checkout started it. */
export async function stopPostgres(state: StackState): Promise<string | undefined> {
  const c = state.postgres?.startedCluster;
  if (!c) return undefined;
  const r = await run('pg_ctlcluster', ['--skip-systemctl-redirect', c.version, c.name, 'stop'], {
    timeoutMs: 60_000,
  });
  if (r.code !== 0)
    throw new Error(`pg_ctlcluster ${c.version} ${c.name} stop failed: ${(r.stderr || r.stdout).trim()}`);
  return `postgres cluster ${c.version}/${c.name} (pg_ctlcluster stop)`;
}
