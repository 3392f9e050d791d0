/**
 * Pure pieces of the stack's own PostgreSQL primary + hot-standby pair (pg-pair.ts): its file layout, its
 * pg_hba.conf and server settings, the choice of Debian's binaries, and the replica's lag as text.
 */
import * as path from 'node:path';

export const PG_HOST = '127.0.0.1';
export const PG_PRIMARY_PORT = 5433;
export const PG_REPLICA_PORT = 5434;
export const PG_DB_NAME = 'email_core';
export const PG_SLOT = 'email_core_replica';

export interface PgLayout {
  /** `.stack/pg` or its shared stand-in under /var/tmp */
  root: string;
  primaryDir: string;
  replicaDir: string;
  logDir: string;
  primaryLog: string;
  replicaLog: string;
  /** unix_socket_directories of both servers */
  socketDir: string;
}

export function pgLayout(root: string): PgLayout {
  const logDir = path.join(root, 'logs');
  return {
    root,
    primaryDir: path.join(root, 'primary'),
    replicaDir: path.join(root, 'replica'),
    logDir,
    primaryLog: path.join(logDir, 'primary.log'),
    replicaLog: path.join(logDir, 'replica.log'),
    socketDir: path.join(root, 'run'),
  };
}

/** Our own settings file, included from each server's postgresql.conf. */
export const PG_CONF_FILE = 'email-core.conf';
export const PG_CONF_INCLUDE = `include_if_exists = '${PG_CONF_FILE}'`;

export const PG_HBA = [
  '# Written by the Email Core stack (development only: trust on loopback).',
  '# TYPE  DATABASE     USER  ADDRESS        METHOD',
  'local   all          all                  trust',
  'host    all          all   127.0.0.1/32   trust',
  'host    replication  all   127.0.0.1/32   trust',
  '',
].join('\n');

const quote = (v: string): string => `'${v.replace(/'/g, "''")}'`;

/** email-core.conf of one server of the pair (the replica's differs in port and name only). */
export function renderPgConf(opts: { port: number; socketDir: string; role: 'primary' | 'replica' }): string {
  const settings: [string, string | number][] = [
    ['listen_addresses', quote(PG_HOST)],
    ['port', opts.port],
    ['unix_socket_directories', quote(opts.socketDir)],
    ['cluster_name', quote(opts.role === 'primary' ? 'email_core_primary' : PG_SLOT)],
    ['max_connections', 200],
    ['shared_buffers', quote('128MB')],
    ['wal_level', 'replica'],
    ['max_wal_senders', 10],
    ['max_replication_slots', 10],
    ['hot_standby', 'on'],
    ['hot_standby_feedback', 'on'],
    ['default_text_search_config', quote('pg_catalog.english')],
    ['timezone', quote('UTC')],
    ['log_timezone', quote('UTC')],
    ['logging_collector', 'off'],
    // a lock wait longer than deadlock_timeout (1 s) is logged with the holder's pid: how lock races are found
    ['log_lock_waits', 'on'],
  ];
  return [
    `# Written by the Email Core stack on every start of the ${opts.role}; edits are overwritten.`,
    ...settings.map(([k, v]) => `${k} = ${v}`),
    '',
  ].join('\n');
}

/** The highest PostgreSQL major version with a complete set of Debian binaries, from /usr/lib/postgresql's entries. */
export function pickPgBinDir(
  base: string,
  entries: string[],
  hasBinary: (file: string) => boolean,
): string | undefined {
  const versions = entries.filter((e) => /^\d+(\.\d+)?$/.test(e)).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const bin = path.join(base, v, 'bin');
    if (['initdb', 'pg_ctl', 'pg_basebackup', 'postgres'].every((b) => hasBinary(path.join(bin, b))))
      return bin;
  }
  return undefined;
}

/** "1.5 kB" style size of a WAL distance. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${Math.max(0, Math.round(bytes))} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/** The status line's lag: WAL bytes the replica has not replayed yet, and seconds behind (0 when caught up). */
export function formatReplayLag(lag: { bytes: number; seconds: number }): string {
  return `in recovery, replay lag ${formatBytes(lag.bytes)} / ${Math.max(0, lag.seconds).toFixed(1)} s`;
}

/** postgres://postgres@host:port/db */
export function pgUrl(port: number, db: string = PG_DB_NAME): string {
  return `postgres://postgres@${PG_HOST}:${port}/${db}`;
}

/** Unix socket paths must fit in sun_path (107 bytes plus NUL). */
export function socketPathTooLong(socketDir: string, port: number): boolean {
  return Buffer.byteLength(path.join(socketDir, `.s.PGSQL.${port}`)) > 107;
}
