/**
 * The stack's own PostgreSQL primary + hot standby: `initdb` under `.stack/pg/primary` (127.0.0.1:5433), a
 * physical slot `email_core_replica`, `pg_basebackup -R -X stream -S email_core_replica` into `.stack/pg/replica`
 * (127.0.0.1:5434), both with their own pg_hba.conf (trust on loopback, replication included) and settings, run
 * with Debian's binaries (/usr/lib/postgresql/<highest>/bin) as the `postgres` user when we are root (Postgres
 * refuses to run as root). Never the machine's own cluster or its /etc configuration.
 *
 * `.stack/pg` is a link to `/var/tmp/email-core-pg-<checkout hash>` when the checkout's path is private (see
 * private-root.ts): the postgres user must reach its data directories.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  PG_CONF_FILE,
  PG_CONF_INCLUDE,
  PG_DB_NAME,
  PG_HBA,
  PG_HOST,
  PG_PRIMARY_PORT,
  PG_REPLICA_PORT,
  PG_SLOT,
  pgLayout,
  pgUrl,
  pickPgBinDir,
  renderPgConf,
  socketPathTooLong,
  type PgLayout,
} from './pg-config';
import { ensureDatabase, queryRows, waitReady } from './pg-query';
import { ensureServiceRoot, serviceRoot, systemUser } from './private-root';
import {
  isPidAlive,
  pidCommandLine,
  run,
  tailFile,
  tcpAnswers,
  waitFor,
  type Log,
  type RunResult,
} from './process';
import { STACK_DIR, rel, updateState } from './state';
import type { PgPairState } from './types';

export const PG_DIR = path.join(STACK_DIR, 'pg');

export type { PgPairState };

export interface PgPairOptions {
  primaryPort?: number;
  replicaPort?: number;
  /** `.stack/pg` (default) or its /var/tmp stand-in; tests pass their own */
  root?: string;
}

export interface PgPairUp {
  primaryUrl: string;
  replicaUrl: string;
  detail: string;
}

/** Where the pair's files live (`.stack/pg` or `/var/tmp/email-core-pg-<hash>`). */
export function pgRoot(): string {
  return serviceRoot({ service: 'pg' });
}

/** Debian's binaries of the highest installed major version, or undefined when they are missing. */
export function pgBinDir(base = '/usr/lib/postgresql'): string | undefined {
  let entries: string[];
  try {
    entries = fs.readdirSync(base);
  } catch {
    return undefined;
  }
  return pickPgBinDir(base, entries, (f) => {
    try {
      fs.accessSync(f, fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The user the servers run as: `postgres` when we are root, ourselves otherwise; undefined when root has none. */
function serverUser(): { uid: number; gid: number } | undefined | null {
  if (process.getuid?.() !== 0) return null;
  return systemUser('postgres');
}

/** Whether the pair can run here (binaries, and a postgres user when we are root). */
export function pgPairPossible(): boolean {
  return pgBinDir() !== undefined && serverUser() !== undefined;
}

class Pair {
  readonly layout: PgLayout;
  readonly primaryPort: number;
  readonly replicaPort: number;
  private readonly user: { uid: number; gid: number } | null;

  constructor(
    readonly bin: string,
    opts: PgPairOptions,
  ) {
    this.layout = pgLayout(opts.root ?? pgRoot());
    this.primaryPort = opts.primaryPort ?? PG_PRIMARY_PORT;
    this.replicaPort = opts.replicaPort ?? PG_REPLICA_PORT;
    const user = serverUser();
    if (user === undefined)
      throw new Error('postgres: we run as root and there is no "postgres" system user');
    this.user = user;
  }

  url(port: number, db = 'postgres'): string {
    return pgUrl(port, db);
  }

  state(): PgPairState {
    return {
      binDir: this.bin,
      root: this.layout.root,
      primaryDir: this.layout.primaryDir,
      replicaDir: this.layout.replicaDir,
      primaryPort: this.primaryPort,
      replicaPort: this.replicaPort,
    };
  }

  /** Runs one of the server binaries as the server's user. */
  exec(tool: string, args: string[], timeoutMs = 120_000): Promise<RunResult> {
    return run(path.join(this.bin, tool), args, {
      timeoutMs,
      cwd: this.layout.root,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', TZ: 'UTC' },
      ...(this.user ? { uid: this.user.uid, gid: this.user.gid } : {}),
    });
  }

  /** Makes `dir` (mode 0700 when `private`) owned by the server's user. */
  ownDir(dir: string, mode: number): void {
    fs.mkdirSync(dir, { recursive: true, mode });
    fs.chmodSync(dir, mode);
    if (this.user) fs.chownSync(dir, this.user.uid, this.user.gid);
  }

  writeOwned(file: string, text: string): void {
    fs.writeFileSync(file, text, { mode: 0o600 });
    if (this.user) fs.chownSync(file, this.user.uid, this.user.gid);
  }

  /** pg_hba.conf, email-core.conf and the include line in postgresql.conf. */
  writeConf(dir: string, port: number, role: 'primary' | 'replica'): void {
    this.writeOwned(path.join(dir, 'pg_hba.conf'), PG_HBA);
    this.writeOwned(
      path.join(dir, PG_CONF_FILE),
      renderPgConf({ port, socketDir: this.layout.socketDir, role }),
    );
    const main = path.join(dir, 'postgresql.conf');
    const text = fs.readFileSync(main, 'utf8');
    if (!text.includes(PG_CONF_INCLUDE)) {
      fs.appendFileSync(main, `\n# Email Core stack settings\n${PG_CONF_INCLUDE}\n`);
    }
  }

  async running(dir: string): Promise<boolean> {
    if (!hasData(dir)) return false;
    return (await this.exec('pg_ctl', ['status', '-D', dir], 15_000)).code === 0;
  }

  async start(dir: string, logFile: string, what: string): Promise<void> {
    const r = await this.exec('pg_ctl', ['start', '-D', dir, '-l', logFile, '-w', '-t', '90'], 120_000);
    if (r.code !== 0) {
      throw new Error(
        `postgres: pg_ctl start of the ${what} failed: ${(r.stderr || r.stdout).trim()}\n` +
          `${rel(logFile)}:\n${tailFile(logFile, 20)}`,
      );
    }
  }

  async stop(dir: string, what: string): Promise<boolean> {
    if (!(await this.running(dir))) return false;
    const r = await this.exec('pg_ctl', ['stop', '-D', dir, '-m', 'fast', '-w', '-t', '60'], 90_000);
    if (r.code !== 0)
      throw new Error(`postgres: pg_ctl stop of the ${what} failed: ${(r.stderr || r.stdout).trim()}`);
    return true;
  }

  /** The server on `port` is the one whose data directory is `dir` (so a foreign server on our port is never used). */
  async answersFrom(port: number, dir: string): Promise<boolean | undefined> {
    if (!(await tcpAnswers(PG_HOST, port))) return undefined;
    try {
      const rows = await queryRows<{ data_directory: string }>(this.url(port), 'show data_directory');
      return sameDir(rows[0]?.data_directory ?? '', dir);
    } catch {
      return false;
    }
  }

  async streaming(): Promise<boolean> {
    const [replica] = await queryRows(this.url(this.replicaPort), 'select pg_is_in_recovery() as r');
    if (replica?.r !== true) return false;
    const rows = await queryRows(
      this.url(this.primaryPort),
      `select r.state from pg_replication_slots s join pg_stat_replication r on r.pid = s.active_pid
        where s.slot_name = $1`,
      [PG_SLOT],
    );
    return rows[0]?.state === 'streaming';
  }

  waitStreaming(timeoutMs: number): Promise<true> {
    return waitFor(
      `the replica on ${PG_HOST}:${this.replicaPort} to stream from ${PG_HOST}:${this.primaryPort}`,
      async () => ((await this.streaming()) ? true : undefined),
      { timeoutMs, intervalMs: 300 },
    );
  }

  async slotExists(): Promise<boolean> {
    const rows = await queryRows(
      this.url(this.primaryPort),
      'select 1 from pg_replication_slots where slot_name = $1',
      [PG_SLOT],
    );
    return rows.length > 0;
  }

  async initPrimary(log: Log): Promise<void> {
    const dir = this.layout.primaryDir;
    log(`postgres: initdb ${dir}`);
    fs.rmSync(dir, { recursive: true, force: true });
    this.ownDir(dir, 0o700);
    const r = await this.exec('initdb', [
      '-D',
      dir,
      '--auth=trust',
      '-U',
      'postgres',
      '--encoding=UTF8',
      '--locale=C.UTF-8',
    ]);
    if (r.code !== 0) throw new Error(`postgres: initdb failed: ${(r.stderr || r.stdout).trim()}`);
  }

  /** A fresh base backup into the replica's directory, through a re-created slot, then started as a standby. */
  async createReplica(log: Log): Promise<void> {
    const dir = this.layout.replicaDir;
    await this.stop(dir, 'replica').catch(() => undefined);
    if (await this.running(dir))
      throw new Error(`postgres: the replica in ${dir} is still running; stop it first`);
    fs.rmSync(dir, { recursive: true, force: true });
    const primary = this.url(this.primaryPort);
    await queryRows(
      primary,
      'select pg_drop_replication_slot(slot_name) from pg_replication_slots where slot_name = $1',
      [PG_SLOT],
    );
    await queryRows(primary, 'select pg_create_physical_replication_slot($1, true)', [PG_SLOT]);
    this.ownDir(dir, 0o700);
    log(`postgres: pg_basebackup of ${PG_HOST}:${this.primaryPort} into ${dir} (slot ${PG_SLOT})`);
    const r = await this.exec(
      'pg_basebackup',
      [
        '-R',
        '-X',
        'stream',
        '-S',
        PG_SLOT,
        '-D',
        dir,
        '-h',
        PG_HOST,
        '-p',
        String(this.primaryPort),
        '-U',
        'postgres',
      ],
      10 * 60_000,
    );
    if (r.code !== 0) throw new Error(`postgres: pg_basebackup failed: ${(r.stderr || r.stdout).trim()}`);
    this.writeConf(dir, this.replicaPort, 'replica');
    await this.start(dir, this.layout.replicaLog, 'replica');
  }

  /** The replica's data directory looks like a standby's (a broken one is re-created). */
  replicaLooksSound(): boolean {
    const dir = this.layout.replicaDir;
    return hasData(dir) && fs.existsSync(path.join(dir, 'standby.signal'));
  }
}

const firstLine = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0];

const hasData = (dir: string): boolean => fs.existsSync(path.join(dir, 'PG_VERSION'));

function sameDir(a: string, b: string): boolean {
  const real = (p: string): string => {
    try {
      return fs.realpathSync(p);
    } catch {
      return path.resolve(p);
    }
  };
  return a !== '' && real(a) === real(b);
}

/**
 * Idempotent: reuses a running pair, starts a stopped one, initdb's a missing primary, re-creates a missing or
 * broken replica from a fresh base backup; then creates `email_core` on the primary. Records the pair in
 * .stack/state.json before starting anything, so `down` can stop even a partial start.
 */
export async function ensurePgPair(log: Log, opts: PgPairOptions = {}): Promise<PgPairUp> {
  const bin = pgBinDir();
  if (!bin) throw new Error('postgres: no PostgreSQL binaries under /usr/lib/postgresql');
  const pair = new Pair(bin, opts);
  const { layout, primaryPort, replicaPort } = pair;
  const primaryUrl = pgUrl(primaryPort);
  const replicaUrl = pgUrl(replicaPort);
  const shown = opts.root ? layout.root : rel(PG_DIR);
  const where = `${shown}${opts.root || layout.root === PG_DIR ? '' : ` -> ${layout.root}`}`;
  const record = (): void => {
    if (opts.root) return; // a test's own pair is not the stack's
    updateState((s) => {
      s.postgres = { pair: pair.state() };
    });
  };

  // fast path: both ours, answering, streaming
  if (
    (await pair.answersFrom(primaryPort, layout.primaryDir)) === true &&
    (await pair.answersFrom(replicaPort, layout.replicaDir)) === true &&
    (await pair.streaming().catch(() => false))
  ) {
    record();
    await ensureDatabase(pair.url(primaryPort), PG_DB_NAME, log);
    return { primaryUrl, replicaUrl, detail: `reused (already running, streaming)  ${where}` };
  }

  for (const [port, dir, what] of [
    [primaryPort, layout.primaryDir, 'primary'],
    [replicaPort, layout.replicaDir, 'replica'],
  ] as const) {
    if ((await pair.answersFrom(port, dir)) === false) {
      throw new Error(
        `postgres: something else answers on ${PG_HOST}:${port}, where the stack's ${what} should run; stop it, or set DATABASE_URL`,
      );
    }
    if (socketPathTooLong(layout.socketDir, port)) {
      throw new Error(
        `postgres: the socket path under ${layout.socketDir} is over 107 bytes; move the checkout`,
      );
    }
  }

  if (!opts.root) ensureServiceRoot(layout.root, PG_DIR, 'postgres');
  else fs.mkdirSync(layout.root, { recursive: true, mode: 0o755 });
  pair.ownDir(layout.logDir, 0o755);
  pair.ownDir(layout.socketDir, 0o755);
  record();

  const started: string[] = [];
  let freshPrimary = false;
  if (!hasData(layout.primaryDir)) {
    await pair.initPrimary(log);
    freshPrimary = true;
  }
  if (!(await pair.running(layout.primaryDir))) {
    pair.writeConf(layout.primaryDir, primaryPort, 'primary');
    await pair.start(layout.primaryDir, layout.primaryLog, 'primary');
    started.push('primary');
  }
  await waitReady(pair.url(primaryPort), 60_000);

  let recreate = freshPrimary || !pair.replicaLooksSound() || !(await pair.slotExists());
  if (!recreate && !(await pair.running(layout.replicaDir))) {
    pair.writeConf(layout.replicaDir, replicaPort, 'replica');
    try {
      await pair.start(layout.replicaDir, layout.replicaLog, 'replica');
      started.push('replica');
    } catch (err) {
      log(`${firstLine(err)}; postgres: re-creating the replica`);
      recreate = true;
    }
  }
  if (!recreate) {
    try {
      await pair.waitStreaming(30_000);
    } catch (err) {
      log(`${firstLine(err)}; postgres: re-creating the replica`);
      recreate = true;
    }
  }
  if (recreate) {
    await pair.createReplica(log);
    started.push('replica (new base backup)');
    await pair.waitStreaming(90_000);
  }
  await ensureDatabase(pair.url(primaryPort), PG_DB_NAME, log);
  await waitReady(replicaUrl, 30_000); // the new database replayed on the standby
  return {
    primaryUrl,
    replicaUrl,
    detail: `${started.length > 0 ? `started ${started.join(', ')}` : 'reused'}; replica streaming  ${where} (logs in ${shown}/logs)`,
  };
}

/** `pg_ctl stop -m fast`, the replica first; says what was stopped, undefined when neither was running. */
export async function stopPgPair(s: PgPairState): Promise<string | undefined> {
  const pair = new Pair(s.binDir, { root: s.root, primaryPort: s.primaryPort, replicaPort: s.replicaPort });
  const stopped: string[] = [];
  if (await pair.stop(s.replicaDir, 'replica')) stopped.push(`replica ${PG_HOST}:${s.replicaPort}`);
  if (await pair.stop(s.primaryDir, 'primary')) stopped.push(`primary ${PG_HOST}:${s.primaryPort}`);
  return stopped.length > 0 ? `postgres ${stopped.join(', ')} (pg_ctl stop -m fast)` : undefined;
}

/** The pair's primary stopped (`-m fast`) for `downMs` and started again (the fault suite). */
export async function restartPgPrimary(s: PgPairState, downMs: number): Promise<void> {
  const pair = new Pair(s.binDir, { root: s.root, primaryPort: s.primaryPort, replicaPort: s.replicaPort });
  if (!(await pair.stop(s.primaryDir, 'primary'))) {
    throw new Error(`fault: the stack's primary (${s.primaryDir}) is not running`);
  }
  await new Promise((resolve) => setTimeout(resolve, downMs));
  await pair.start(s.primaryDir, pgLayout(s.root).primaryLog, 'primary');
}

/** Pid of the pair's replica postmaster (postmaster.pid in its data directory), if that process is alive and is it. */
export function pgReplicaPid(s: PgPairState): number | undefined {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(path.join(s.replicaDir, 'postmaster.pid'), 'utf8').split('\n')[0].trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !isPidAlive(pid)) return undefined;
  const cmd = pidCommandLine(pid);
  return cmd === '' || (cmd.includes('postgres') && cmd.includes(s.replicaDir)) ? pid : undefined;
}

/** Pids whose parent is `pid` (Linux /proc). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    const child = Number(entry);
    if (!Number.isInteger(child)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${child}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(child);
    } catch {
      /* gone */
    }
  }
  return out;
}

/**
 * Starts the pair's replica again on its data directory (after a crash) and waits until it is in recovery. A
 * just-killed postmaster may linger as a zombie for a moment, which pg_ctl takes for a running server: so it polls,
 * starting the server whenever pg_ctl says none runs.
 */
export async function startPgReplica(s: PgPairState, timeoutMs = 60_000): Promise<void> {
  const pair = new Pair(s.binDir, { root: s.root, primaryPort: s.primaryPort, replicaPort: s.replicaPort });
  await waitFor(
    `the replica on ${PG_HOST}:${s.replicaPort} to answer in recovery`,
    async () => {
      if (!(await pair.running(s.replicaDir))) {
        await pair.start(s.replicaDir, pgLayout(s.root).replicaLog, 'replica');
      }
      const [r] = await queryRows<{ r: boolean }>(pair.url(s.replicaPort), 'select pg_is_in_recovery() as r');
      return r?.r === true ? true : undefined;
    },
    { timeoutMs, intervalMs: 200 },
  );
}
