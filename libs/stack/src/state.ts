import * as fs from 'node:fs';
import * as path from 'node:path';
import type { HostPort, PgPairState, StackEndpoints, StackSource } from './types';
import { isPidAlive, sleep } from './process';

/** Repository root (libs/stack/src/../../..). */
export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const STACK_DIR = path.join(ROOT, '.stack');
export const STATE_FILE = path.join(STACK_DIR, 'state.json');
export const ENDPOINTS_FILE = path.join(STACK_DIR, 'endpoints.env');
const LOCK_FILE = path.join(STACK_DIR, 'lock');

/** What THIS checkout started; `down` stops exactly these and nothing else. */
export interface StackState {
  /** the machine's cluster we started (no binaries for a pair), or the checkout's own primary + replica */
  postgres?: { startedCluster?: { version: string; name: string }; pair?: PgPairState };
  kafka?: { pid: number; logFile: string };
  redis?: { pids: Record<string, number> };
  /** the mail server's Dovecot and Postfix masters (.stack/mail) */
  mail?: { dovecotPid?: number; postfixPid?: number };
  /** compose files we ran `docker compose up -d` with */
  dockerComposeFiles?: string[];
}

export function rel(p: string): string {
  return path.relative(ROOT, p) || '.';
}

export function readState(): StackState {
  try {
    return JSON.parse(fs.readFileSync(STATE_FILE, 'utf8')) as StackState;
  } catch {
    return {};
  }
}

export function writeState(state: StackState): void {
  fs.mkdirSync(STACK_DIR, { recursive: true });
  const tmp = `${STATE_FILE}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  fs.renameSync(tmp, STATE_FILE);
}

export function updateState(change: (s: StackState) => void): StackState {
  const s = readState();
  change(s);
  writeState(s);
  return s;
}

/** Drops the password from a URL so nothing secret lands in .stack/. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.password) return url;
    u.password = '';
    return u.toString();
  } catch {
    return url;
  }
}

export function writeEndpointsFile(e: StackEndpoints): void {
  fs.mkdirSync(STACK_DIR, { recursive: true });
  const db = redactUrl(e.databaseUrl);
  const readDb = e.databaseReadUrl ? redactUrl(e.databaseReadUrl) : undefined;
  const lines = [
    '# Written by `npm run stack:up`. Endpoints only, never secrets.',
    `# sources: postgres=${e.sources.postgres} kafka=${e.sources.kafka} redis=${e.sources.redis}${e.sources.mail ? ` mail=${e.sources.mail}` : ''}`,
    ...(db !== e.databaseUrl ? ['# DATABASE_URL password removed: supply it with PGPASSWORD'] : []),
    `DATABASE_URL=${db}`,
    ...(readDb ? [`DATABASE_READ_URL=${readDb}`] : []),
    `KAFKA_BROKERS=${e.kafkaBrokers.join(',')}`,
    `REDIS_CLUSTER_NODES=${e.redisClusterNodes.map((n) => `${n.host}:${n.port}`).join(',')}`,
    ...(e.mail
      ? [
          `# mail server (${e.sources.mail ?? 'unknown'}): every address logs in with DEV_MAIL_PASSWORD from .stack/dev-secrets.env`,
          `MAIL_SMTP=${e.mail.smtp}`,
          `MAIL_SUBMISSION=${e.mail.submission}`,
          `MAIL_IMAP=${e.mail.imap}`,
          `MAIL_IMAPS=${e.mail.imaps}`,
        ]
      : []),
    '',
  ];
  fs.writeFileSync(ENDPOINTS_FILE, lines.join('\n'));
}

export function parseHostPorts(list: string): HostPort[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const i = s.lastIndexOf(':');
      const port = Number(s.slice(i + 1));
      if (i <= 0 || !Number.isInteger(port) || port <= 0) throw new Error(`not a host:port: "${s}"`);
      return { host: s.slice(0, i), port };
    });
}

const SOURCES: readonly StackSource[] = ['env', 'docker', 'local-started', 'local-existing'];
function asSource(v: string | undefined): StackSource {
  return SOURCES.find((s) => s === v) ?? 'local-existing';
}

/** The endpoints of the last successful `up`, or undefined when there is none. */
export function readEndpointsFile(): StackEndpoints | undefined {
  let text: string;
  try {
    text = fs.readFileSync(ENDPOINTS_FILE, 'utf8');
  } catch {
    return undefined;
  }
  const vars = new Map<string, string>();
  const sources = new Map<string, string>();
  for (const line of text.split('\n')) {
    const src = /^# sources: (.*)$/.exec(line);
    if (src) {
      for (const pair of src[1].split(' ')) {
        const [k, v] = pair.split('=');
        if (k && v) sources.set(k, v);
      }
      continue;
    }
    const m = /^([A-Z_]+)=(.*)$/.exec(line);
    if (m) vars.set(m[1], m[2]);
  }
  const databaseUrl = vars.get('DATABASE_URL');
  const databaseReadUrl = vars.get('DATABASE_READ_URL');
  const brokers = vars.get('KAFKA_BROKERS');
  const nodes = vars.get('REDIS_CLUSTER_NODES');
  if (!databaseUrl || !brokers || !nodes) return undefined;
  const smtp = vars.get('MAIL_SMTP');
  const submission = vars.get('MAIL_SUBMISSION');
  const imap = vars.get('MAIL_IMAP');
  const imaps = vars.get('MAIL_IMAPS');
  const mail = smtp && submission && imap && imaps ? { smtp, submission, imap, imaps } : undefined;
  return {
    databaseUrl,
    ...(databaseReadUrl ? { databaseReadUrl } : {}),
    kafkaBrokers: brokers.split(',').filter(Boolean),
    redisClusterNodes: parseHostPorts(nodes),
    ...(mail ? { mail } : {}),
    sources: {
      postgres: asSource(sources.get('postgres')),
      kafka: asSource(sources.get('kafka')),
      redis: asSource(sources.get('redis')),
      ...(mail ? { mail: asSource(sources.get('mail')) } : {}),
    },
  };
}

/**
 * Serialises `up`/`down` between processes of this checkout (e.g. `npm start` and a test run).
 * A lock left by a dead process is taken over.
 */
export async function withStackLock<T>(
  fn: () => Promise<T>,
  log: (m: string) => void,
  timeoutMs = 15 * 60_000,
): Promise<T> {
  fs.mkdirSync(STACK_DIR, { recursive: true });
  const deadline = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    try {
      fs.writeFileSync(LOCK_FILE, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(fs.readFileSync(LOCK_FILE, 'utf8').trim());
      if (!Number.isInteger(holder) || holder <= 0 || !isPidAlive(holder)) {
        fs.rmSync(LOCK_FILE, { force: true });
        continue;
      }
      if (Date.now() > deadline)
        throw new Error(`another stack command (pid ${holder}) still holds ${rel(LOCK_FILE)}`);
      if (!told) log(`waiting for another stack command (pid ${holder}) to finish...`);
      told = true;
      await sleep(500);
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(LOCK_FILE, { force: true });
  }
}
