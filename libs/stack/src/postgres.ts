import * as fs from 'node:fs';
import { composeUp, dockerAvailable } from './docker';
import { formatReplayLag, PG_DB_NAME, PG_PRIMARY_PORT, PG_REPLICA_PORT, pgUrl } from './pg-config';
import { ensurePgPair, pgPairPossible, stopPgPair } from './pg-pair';
import { ensureDatabase, queryRows, waitReady } from './pg-query';
import { commandExists, errorMessage, run, tcpAnswers, type Log } from './process';
import { StackUnavailableError, type ServiceHealth, type ServiceUp } from './service';
import { readState, updateState, type StackState } from './state';

const HOST = '127.0.0.1';
/** The machine's own server, reused only when the pair cannot run (no binaries). */
const LEGACY_PORT = 5432;
const LEGACY_URL = `postgres://postgres@${HOST}:${LEGACY_PORT}/${PG_DB_NAME}`;
const LEGACY_ADMIN_URL = `postgres://postgres@${HOST}:${LEGACY_PORT}/postgres`;
/** The stack's primary and hot standby (its own pair, or docker-compose.pg.yml). */
export const DEFAULT_DATABASE_URL = pgUrl(PG_PRIMARY_PORT);
export const DEFAULT_DATABASE_READ_URL = pgUrl(PG_REPLICA_PORT);

/** The stack's Postgres: the primary's URL, and the hot standby's when there is one. */
export interface PostgresUp extends ServiceUp<string> {
  readUrl?: string;
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

/**
 * DATABASE_URL (and DATABASE_READ_URL) from the environment; else Docker's pair (docker-compose.pg.yml); else
 * the checkout's own primary (5433) + hot standby (5434) from Debian's binaries (pg-pair.ts); else, with no
 * binaries, the machine's server on 5432 without a replica (reused, or its cluster started).
 */
export async function ensurePostgres(log: Log): Promise<PostgresUp> {
  const fromEnv = process.env.DATABASE_URL;
  if (fromEnv) {
    await waitReady(fromEnv, 30_000);
    const readUrl = process.env.DATABASE_READ_URL || undefined;
    if (readUrl) await waitReady(readUrl, 30_000);
    return {
      endpoint: fromEnv,
      ...(readUrl ? { readUrl } : {}),
      source: 'env',
      detail: readUrl ? 'from DATABASE_URL, DATABASE_READ_URL' : 'from DATABASE_URL (no replica)',
    };
  }

  const state = readState();
  const ownPair = Boolean(state.postgres?.pair);
  if (!ownPair && (await dockerAvailable())) {
    log('postgres: starting docker-compose.pg.yml (primary 5433, replica 5434)');
    await composeUp('docker-compose.pg.yml');
    await waitReady(pgUrl(PG_PRIMARY_PORT, 'postgres'), 90_000);
    await waitReady(pgUrl(PG_REPLICA_PORT, 'postgres'), 180_000);
    await ensureDatabase(pgUrl(PG_PRIMARY_PORT, 'postgres'), PG_DB_NAME, log);
    return {
      endpoint: DEFAULT_DATABASE_URL,
      readUrl: DEFAULT_DATABASE_READ_URL,
      source: 'docker',
      detail: 'docker compose -f docker-compose.pg.yml',
    };
  }

  if (ownPair || pgPairPossible()) {
    const up = await ensurePgPair(log);
    return {
      endpoint: up.primaryUrl,
      readUrl: up.replicaUrl,
      source: 'local-started',
      detail: up.detail,
    };
  }

  log(`postgres: no PostgreSQL binaries under /usr/lib/postgresql: using ${HOST}:${LEGACY_PORT}, no replica`);
  if (await tcpAnswers(HOST, LEGACY_PORT)) {
    await waitReady(LEGACY_ADMIN_URL, 30_000);
    await ensureDatabase(LEGACY_ADMIN_URL, PG_DB_NAME, log);
    const source = state.postgres?.startedCluster ? 'local-started' : 'local-existing';
    return { endpoint: LEGACY_URL, source, detail: 'reused (already running), no replica' };
  }

  const cluster = localCluster();
  if (!cluster) {
    throw new StackUnavailableError(
      `PostgreSQL: no binaries under /usr/lib/postgresql, nothing answers on ${HOST}:${LEGACY_PORT}, no Docker engine, ` +
        'and no local cluster to start. Install it (apt-get install postgresql), start Docker, or set DATABASE_URL.',
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
  await waitReady(LEGACY_ADMIN_URL, 30_000);
  await ensureDatabase(LEGACY_ADMIN_URL, PG_DB_NAME, log);
  return {
    endpoint: LEGACY_URL,
    source: 'local-started',
    detail: `pg_ctlcluster ${cluster.version} ${cluster.name}, no replica`,
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

/**
 * The hot standby: healthy when `pg_is_in_recovery()`; the check says how far its replay is behind the primary,
 * in WAL bytes (the primary's current LSN minus the replica's replay LSN) and seconds (0 when it has replayed all
 * it received or all the primary wrote, else now() minus the last replayed transaction's time: on an idle primary
 * that time is old, so a replica that has not caught up yet shows a large figure until it does).
 */
export async function checkReplica(primaryUrl: string, readUrl: string): Promise<ServiceHealth> {
  try {
    const [p] = await queryRows<{ lsn: string }>(primaryUrl, 'select pg_current_wal_lsn()::text as lsn');
    const [r] = await queryRows(
      readUrl,
      `select pg_is_in_recovery() as recovery,
              coalesce(pg_wal_lsn_diff($1::pg_lsn, pg_last_wal_replay_lsn()), 0)::float8 as bytes,
              case when pg_last_wal_receive_lsn() is not distinct from pg_last_wal_replay_lsn()
                     or pg_wal_lsn_diff($1::pg_lsn, pg_last_wal_replay_lsn()) <= 0 then 0
                   else coalesce(extract(epoch from now() - pg_last_xact_replay_timestamp()), 0) end::float8 as seconds`,
      [p?.lsn ?? '0/0'],
    );
    if (r?.recovery !== true) return { healthy: false, detail: 'not in recovery: not a standby' };
    return { healthy: true, detail: formatReplayLag({ bytes: Number(r.bytes), seconds: Number(r.seconds) }) };
  } catch (err) {
    return { healthy: false, detail: errorMessage(err) };
  }
}

/** Stops the pair or the local cluster only if this checkout started it. */
export async function stopPostgres(state: StackState): Promise<string | undefined> {
  if (state.postgres?.pair) return stopPgPair(state.postgres.pair);
  const c = state.postgres?.startedCluster;
  if (!c) return undefined;
  const r = await run('pg_ctlcluster', ['--skip-systemctl-redirect', c.version, c.name, 'stop'], {
    timeoutMs: 60_000,
  });
  if (r.code !== 0)
    throw new Error(`pg_ctlcluster ${c.version} ${c.name} stop failed: ${(r.stderr || r.stdout).trim()}`);
  return `postgres cluster ${c.version}/${c.name} (pg_ctlcluster stop)`;
}
