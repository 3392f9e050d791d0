/**
 * The local mail server: Dovecot 2.3 (IMAP with STARTTLS, IMAPS, LMTP) and Postfix 3.7 (SMTP, submission with
 * AUTH), run as this checkout's own processes from their own configuration under `.stack/mail/` (never /etc,
 * never the machine's system services), on loopback and unprivileged ports, with a certificate from the
 * project's local CA. A development sink: any address on any domain is delivered to a Dovecot mailbox of that
 * address, and every mailbox logs in with the full address and DEV_MAIL_PASSWORD (.stack/dev-secrets.env).
 *
 * Sources, in the stack's order: MAIL_SMTP/MAIL_SUBMISSION/MAIL_IMAP/MAIL_IMAPS from the environment; ours
 * (recorded in .stack/state.json) or something already answering on the four ports; Docker
 * (docker-compose.mail.yml); local processes, installing Debian's packages with apt-get when they are missing.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { ensureCertificates, defaultCertDir } from '@email-core/certs';
import { loadDevSecrets } from '@email-core/config';
import { ImapFlow } from 'imapflow';
import { composeUp, dockerAvailable } from './docker';
import {
  assertUsablePassword,
  MAIL_HOST,
  MAIL_PORTS,
  mailLayout,
  renderDovecotConf,
  renderPostfixMainCf,
  renderPostfixMasterCf,
  tooLongSocketPaths,
  type MailConfigInput,
  type MailLayout,
} from './mail-config';
import {
  commandExists,
  errorMessage,
  isPidAlive,
  pidCommandLine,
  run,
  sleep,
  tailFile,
  tcpAnswers,
  terminate,
  waitFor,
  type Log,
} from './process';
import { checkoutHash, ensureServiceRoot, serviceRoot, systemUser } from './private-root';
import { StackUnavailableError, type ServiceHealth, type ServiceUp } from './service';
import { STACK_DIR, readState, rel, updateState, type StackState } from './state';
import type { MailEndpoints } from './types';

export type { MailEndpoints };

export const MAIL_ENV_VARS: Record<keyof MailEndpoints, string> = {
  smtp: 'MAIL_SMTP',
  submission: 'MAIL_SUBMISSION',
  imap: 'MAIL_IMAP',
  imaps: 'MAIL_IMAPS',
};

const at = (port: number): string => `${MAIL_HOST}:${port}`;
export const DEFAULT_MAIL_ENDPOINTS: MailEndpoints = {
  smtp: at(MAIL_PORTS.smtp),
  submission: at(MAIL_PORTS.submission),
  imap: at(MAIL_PORTS.imap),
  imaps: at(MAIL_PORTS.imaps),
};

export const MAIL_DIR = path.join(STACK_DIR, 'mail');

/**
 * Where the mail server's files really live: `.stack/mail`, or `/var/tmp/email-core-mail-<checkout hash>` (with
 * `.stack/mail` a link to it) when the checkout's path is private (see private-root.ts). Postfix and Dovecot open
 * their files and sockets as unprivileged users (postfix, dovenull, nobody); Postfix's master could not open its
 * `data/master.lock` under a `mktemp -d` checkout otherwise.
 */
export function mailRoot(): string {
  return serviceRoot({ service: 'mail' });
}

let layoutMemo: MailLayout | undefined;
function localLayout(): MailLayout {
  layoutMemo ??= mailLayout(mailRoot());
  return layoutMemo;
}

function ensureMailRoot(root: string): void {
  ensureServiceRoot(root, MAIL_DIR, 'mail');
}
/** The certificate's file name stem in the CA's folder (.stack/certs/mail.pem, mail-key.pem). */
const CERT_NAME = 'mail';
/** The Debian packages and the files that show they are installed. */
export const MAIL_PACKAGES = ['dovecot-imapd', 'dovecot-lmtpd', 'postfix'];
const REQUIRED_FILES = [
  '/usr/sbin/dovecot',
  '/usr/lib/dovecot/imap',
  '/usr/lib/dovecot/lmtp',
  '/usr/sbin/postfix',
];
const READY_TIMEOUT_MS = 30_000;
/** the mailbox a status check logs in to */
const STATUS_USER = 'stack-status@email-core.localhost';

/** The CA the mail server's certificate chains to: MAIL_CA_FILE, else the project's (.stack/certs/ca.pem). */
export function mailCaFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.MAIL_CA_FILE || path.join(defaultCertDir(env), 'ca.pem');
}

/** .stack/dev-secrets.env, where libs/config's loadDevSecrets() keeps DEV_MAIL_PASSWORD. */
export const DEV_SECRETS_FILE = path.join(STACK_DIR, 'dev-secrets.env');

/**
 * The dev password every mailbox accepts: DEV_MAIL_PASSWORD from the environment, else from
 * .stack/dev-secrets.env (read only: a status check generates nothing), else undefined.
 */
export function devMailPassword(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.DEV_MAIL_PASSWORD) return env.DEV_MAIL_PASSWORD;
  try {
    const line = fs
      .readFileSync(DEV_SECRETS_FILE, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('DEV_MAIL_PASSWORD='));
    return line?.slice('DEV_MAIL_PASSWORD='.length).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** The sender the apps log in to submission as (any address works; this one names the product). */
export const SYSTEM_MAIL_LOGIN = 'no-reply@email-core.localhost';

/**
 * The consumer's SMTP settings for this mail server: SMTP_URL (submission, the dev login in the URL, both
 * URL-encoded) and SMTP_CA_FILE (the project CA). Used by `npm start`; values already in `env` win.
 */
export function systemMailSmtpEnv(
  mail: Pick<MailEndpoints, 'submission'>,
  password: string,
  caFile: string,
  env: NodeJS.ProcessEnv = process.env,
): { SMTP_URL: string; SMTP_CA_FILE: string } {
  const { host, port } = parseMailEndpoint(mail.submission);
  const hostText = net.isIPv6(host) ? `[${host}]` : host;
  return {
    SMTP_URL:
      env.SMTP_URL ||
      `smtp://${encodeURIComponent(SYSTEM_MAIL_LOGIN)}:${encodeURIComponent(password)}@${hostText}:${port}`,
    SMTP_CA_FILE: env.SMTP_CA_FILE || caFile,
  };
}

/**
 * The IMAP/SMTP adapter's settings for reaching this mail server as a user's server: private hosts allowed (it
 * listens on 127.0.0.1) and the project CA trusted (IMAP_CA_FILE). Used by `npm start` and the tests' apps; values
 * already in `env` win.
 */
export function imapAdapterEnv(
  caFile: string,
  env: NodeJS.ProcessEnv = process.env,
): { IMAP_ALLOW_PRIVATE_HOSTS: string; IMAP_CA_FILE: string } {
  return {
    IMAP_ALLOW_PRIVATE_HOSTS: env.IMAP_ALLOW_PRIVATE_HOSTS || 'true',
    IMAP_CA_FILE: env.IMAP_CA_FILE || caFile,
  };
}

export function parseMailEndpoint(value: string): { host: string; port: number } {
  const i = value.lastIndexOf(':');
  const port = Number(value.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port <= 0) throw new Error(`not a host:port: "${value}"`);
  return { host: value.slice(0, i).replace(/^\[(.*)\]$/, '$1'), port };
}

function fromEnv(env: NodeJS.ProcessEnv): MailEndpoints | undefined {
  const values = Object.entries(MAIL_ENV_VARS).map(([k, v]) => [k, env[v]?.trim()] as const);
  const set = values.filter(([, v]) => v);
  if (set.length === 0) return undefined;
  if (set.length < values.length) {
    throw new Error(
      `mail: set all of ${Object.values(MAIL_ENV_VARS).join(', ')} or none of them (missing: ${values
        .filter(([, v]) => !v)
        .map(([k]) => MAIL_ENV_VARS[k as keyof MailEndpoints])
        .join(', ')})`,
    );
  }
  const get = (k: keyof MailEndpoints): string => env[MAIL_ENV_VARS[k]]?.trim() ?? '';
  const e: MailEndpoints = {
    smtp: get('smtp'),
    submission: get('submission'),
    imap: get('imap'),
    imaps: get('imaps'),
  };
  for (const v of [e.smtp, e.submission, e.imap, e.imaps]) parseMailEndpoint(v);
  return e;
}

// ---------------------------------------------------------------------------------------------------------
// Protocol checks (short, bounded)

type Conn = net.Socket | tls.TLSSocket;

/** A line reader over a socket: `next(pred)` resolves with the lines up to the first one `pred` accepts. */
function lineReader(sock: Conn): { next: (done: (line: string) => boolean) => Promise<string[]> } {
  let buf = '';
  let lines: string[] = [];
  let waiter:
    { done: (l: string) => boolean; resolve: (l: string[]) => void; reject: (e: Error) => void } | undefined;
  let failed: Error | undefined;
  const pump = (): void => {
    if (!waiter) return;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).replace(/\r$/, '');
      buf = buf.slice(i + 1);
      lines.push(line);
      if (waiter.done(line)) {
        const w = waiter;
        const got = lines;
        waiter = undefined;
        lines = [];
        w.resolve(got);
        return;
      }
    }
  };
  sock.on('data', (d: Buffer) => {
    buf += d.toString('latin1');
    pump();
  });
  const fail = (e: Error): void => {
    failed = e;
    waiter?.reject(e);
    waiter = undefined;
  };
  sock.on('error', fail);
  sock.on('close', () => fail(new Error('connection closed')));
  return {
    next: (done) =>
      new Promise<string[]>((resolve, reject) => {
        if (failed) return reject(failed);
        waiter = { done, resolve, reject };
        pump();
      }),
  };
}

async function withSocket<T>(
  host: string,
  port: number,
  secure: { ca: string } | undefined,
  timeoutMs: number,
  fn: (sock: Conn, read: ReturnType<typeof lineReader>) => Promise<T>,
): Promise<T> {
  const sock: Conn = secure
    ? tls.connect({ host, port, ca: secure.ca, servername: net.isIP(host) ? undefined : host })
    : net.connect({ host, port });
  const read = lineReader(sock);
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      fn(sock, read),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    sock.destroy();
  }
}

/** SMTP greeting and EHLO; returns the EHLO keywords (e.g. STARTTLS, AUTH PLAIN LOGIN). */
export async function smtpEhlo(endpoint: string, timeoutMs = 3000): Promise<string[]> {
  const { host, port } = parseMailEndpoint(endpoint);
  return withSocket(host, port, undefined, timeoutMs, async (sock, read) => {
    const greeting = await read.next((l) => /^\d{3} /.test(l));
    if (!greeting.at(-1)?.startsWith('220')) throw new Error(`SMTP greeting: ${greeting.join(' | ')}`);
    sock.write('EHLO stack-status.email-core.localhost\r\n');
    const ehlo = await read.next((l) => /^\d{3} /.test(l));
    if (!ehlo.every((l) => l.startsWith('250'))) throw new Error(`SMTP EHLO: ${ehlo.join(' | ')}`);
    sock.write('QUIT\r\n');
    return ehlo.slice(1).map((l) => l.slice(4).toUpperCase());
  });
}

/** The untagged greeting of an IMAP server (plain or TLS). */
export async function imapGreeting(
  endpoint: string,
  secure: { ca: string } | undefined,
  timeoutMs = 3000,
): Promise<string> {
  const { host, port } = parseMailEndpoint(endpoint);
  return withSocket(host, port, secure, timeoutMs, async (sock, read) => {
    const [line] = await read.next(() => true);
    if (!line.startsWith('* OK')) throw new Error(`IMAP greeting: ${line}`);
    sock.write('a LOGOUT\r\n');
    return line;
  });
}

/** A real IMAP login over TLS (imapflow), returning the capabilities after login. */
export async function imapLogin(
  endpoint: string,
  opts: { user: string; password: string; ca: string; secure: boolean; timeoutMs?: number },
): Promise<string[]> {
  const { host, port } = parseMailEndpoint(endpoint);
  const client = new ImapFlow({
    host,
    port,
    secure: opts.secure,
    doSTARTTLS: opts.secure ? undefined : true,
    auth: { user: opts.user, pass: opts.password },
    tls: { ca: [opts.ca] },
    logger: false,
    connectionTimeout: opts.timeoutMs ?? 5000,
    greetingTimeout: opts.timeoutMs ?? 5000,
    socketTimeout: opts.timeoutMs ?? 5000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return [...client.capabilities.keys()];
  } finally {
    await client.logout().catch(() => client.close());
  }
}

/**
 * `stack:status`'s check: EHLO on SMTP and submission (which must offer STARTTLS), and a real IMAP login over
 * IMAPS (any address, DEV_MAIL_PASSWORD, trusting the project's CA) that must see IDLE, CONDSTORE and QRESYNC.
 * Without a known password (no .stack/dev-secrets.env, no DEV_MAIL_PASSWORD) only the IMAP greetings are checked.
 */
export async function checkMailServer(
  e: MailEndpoints,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ServiceHealth> {
  try {
    await smtpEhlo(e.smtp);
    const sub = await smtpEhlo(e.submission);
    if (!sub.includes('STARTTLS'))
      return { healthy: false, detail: `submission ${e.submission} offers no STARTTLS` };
    const ca = fs.readFileSync(mailCaFile(env), 'utf8');
    await imapGreeting(e.imap, undefined);
    const password = devMailPassword(env);
    if (!password) {
      await imapGreeting(e.imaps, { ca });
      return {
        healthy: true,
        detail: 'SMTP+submission EHLO ok, IMAP+IMAPS greet (no DEV_MAIL_PASSWORD to log in)',
      };
    }
    const caps = await imapLogin(e.imaps, { user: STATUS_USER, password, ca, secure: true });
    const missing = ['IDLE', 'CONDSTORE', 'QRESYNC'].filter((c) => !caps.includes(c));
    if (missing.length > 0) return { healthy: false, detail: `IMAP lacks ${missing.join(', ')}` };
    return { healthy: true, detail: 'SMTP+submission EHLO ok, IMAPS login ok (IDLE CONDSTORE QRESYNC)' };
  } catch (err) {
    return { healthy: false, detail: errorMessage(err) };
  }
}

function waitHealthy(e: MailEndpoints, timeoutMs: number, abort?: () => string | undefined): Promise<string> {
  return waitFor(
    `the mail server (${e.imap}, ${e.smtp})`,
    async () => {
      const h = await checkMailServer(e);
      if (!h.healthy) throw new Error(h.detail);
      return h.detail;
    },
    { timeoutMs, intervalMs: 500, abort },
  );
}

// ---------------------------------------------------------------------------------------------------------
// Packages

function packagesInstalled(): boolean {
  return REQUIRED_FILES.every((f) => fs.existsSync(f));
}

/** apt-get update + install of Debian's dovecot-imapd, dovecot-lmtpd and postfix, when they are missing. */
export async function ensureMailPackages(log: Log): Promise<void> {
  if (packagesInstalled()) return;
  const how = `apt-get install ${MAIL_PACKAGES.join(' ')}`;
  if (!commandExists('apt-get')) {
    throw new StackUnavailableError(
      `Mail server: Dovecot and Postfix are not installed and there is no apt-get to install them (${how} on Debian/Ubuntu), ` +
        `no Docker engine for docker-compose.mail.yml, and ${Object.values(MAIL_ENV_VARS).join('/')} are not set.`,
    );
  }
  if (process.getuid?.() !== 0) {
    throw new StackUnavailableError(
      `Mail server: Dovecot and Postfix are not installed; install them as root: sudo ${how}`,
    );
  }
  log(`mail: installing ${MAIL_PACKAGES.join(', ')} with apt-get (first run only)...`);
  // The packages' own system services are never used: the stack runs its own instances on its own ports.
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = await run('apt-get', ['update', '-qq'], { timeoutMs: 5 * 60_000, env });
  if (update.code !== 0)
    throw new Error(`mail: apt-get update failed:\n${(update.stderr || update.stdout).trim().slice(-2000)}`);
  const install = await run(
    'apt-get',
    ['install', '-y', '-qq', '--no-install-recommends', ...MAIL_PACKAGES],
    {
      timeoutMs: 10 * 60_000,
      env,
    },
  );
  if (install.code !== 0 || !packagesInstalled()) {
    throw new Error(`mail: ${how} failed:\n${(install.stderr || install.stdout).trim().slice(-2000)}`);
  }
  log('mail: packages installed');
}

// ---------------------------------------------------------------------------------------------------------
// Our processes

/** A name unique to this checkout (Dovecot's instance_name, Postfix's syslog_name). */
function instanceName(): string {
  return `email-core-${checkoutHash()}`;
}

const dovecotPidFile = (l: MailLayout): string => path.join(l.dovecotBaseDir, 'master.pid');
const postfixPidFile = (l: MailLayout): string => path.join(l.postfixQueueDir, 'pid', 'master.pid');

function readPid(file: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Pid of our Dovecot master, if it is still that process. */
function ownDovecotPid(state: StackState): number | undefined {
  const pid = state.mail?.dovecotPid;
  if (!pid || !isPidAlive(pid)) return undefined;
  const cmd = pidCommandLine(pid);
  return cmd === '' || (cmd.includes('dovecot') && cmd.includes(localLayout().dovecotConf)) ? pid : undefined;
}

/** Pid of our Postfix master, if it is still that process (its pid file is in our queue directory). */
function ownPostfixPid(state: StackState): number | undefined {
  const pid = state.mail?.postfixPid;
  if (!pid || !isPidAlive(pid)) return undefined;
  const cmd = pidCommandLine(pid);
  return cmd === '' || (cmd.includes('master') && readPid(postfixPidFile(localLayout())) === pid)
    ? pid
    : undefined;
}

/** Writes the configuration (every `up`, so a changed password or certificate takes effect on the next start). */
export function writeMailConfig(log: Log): MailConfigInput {
  const tooLong = tooLongSocketPaths(localLayout());
  if (tooLong.length > 0) {
    throw new Error(
      `mail: the checkout's path is too long for Unix sockets (${tooLong[0]} is over 107 bytes); move the checkout to a shorter path`,
    );
  }
  const nobody = systemUser('nobody') ?? { uid: 65534, gid: 65534 };
  const postfix = systemUser('postfix');
  if (!postfix) throw new Error('mail: the system user "postfix" is missing (reinstall the postfix package)');
  const password = loadDevSecrets().DEV_MAIL_PASSWORD;
  const certDir = defaultCertDir();
  ensureCertificates({ certDir, hostnames: [], leafName: CERT_NAME });
  ensureMailRoot(localLayout().root);
  // the daemons read the certificate from the mail root (reachable by them wherever the checkout is)
  const tlsDir = path.join(localLayout().root, 'tls');
  fs.mkdirSync(tlsDir, { recursive: true, mode: 0o755 });
  const certFile = path.join(tlsDir, `${CERT_NAME}.pem`);
  const keyFile = path.join(tlsDir, `${CERT_NAME}-key.pem`);
  fs.copyFileSync(path.join(certDir, `${CERT_NAME}.pem`), certFile);
  fs.copyFileSync(path.join(certDir, `${CERT_NAME}-key.pem`), keyFile);
  fs.chmodSync(keyFile, 0o600);
  const input: MailConfigInput = {
    layout: localLayout(),
    password,
    certFile,
    keyFile,
    mailUid: nobody.uid,
    mailGid: nobody.gid,
    instanceName: instanceName(),
  };
  for (const dir of [
    localLayout().root,
    path.dirname(localLayout().dovecotConf),
    localLayout().dovecotBaseDir,
    localLayout().dovecotStateDir,
    localLayout().mailboxes,
    localLayout().postfixConfigDir,
    localLayout().postfixQueueDir,
    localLayout().postfixDataDir,
  ]) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  }
  // Dovecot stores mail as `nobody`; Postfix's master insists on owning its data directory
  fs.chownSync(localLayout().mailboxes, nobody.uid, nobody.gid);
  fs.chownSync(localLayout().postfixDataDir, postfix.uid, postfix.gid);
  // the Dovecot file holds the dev password
  fs.writeFileSync(localLayout().dovecotConf, renderDovecotConf(input), { mode: 0o600 });
  fs.chmodSync(localLayout().dovecotConf, 0o600);
  // changed passwords (none until a fault test changes one): read by Dovecot's auth process (user dovecot)
  if (!fs.existsSync(localLayout().dovecotPasswords)) fs.writeFileSync(localLayout().dovecotPasswords, '');
  const dovecotUser = systemUser('dovecot');
  fs.chmodSync(localLayout().dovecotPasswords, 0o640);
  if (dovecotUser) fs.chownSync(localLayout().dovecotPasswords, 0, dovecotUser.gid);
  fs.writeFileSync(path.join(localLayout().postfixConfigDir, 'main.cf'), renderPostfixMainCf(input));
  fs.writeFileSync(path.join(localLayout().postfixConfigDir, 'master.cf'), renderPostfixMasterCf(input));
  log(`mail: configuration written to ${rel(localLayout().root)}`);
  return input;
}

/**
 * `up` on a running mail server: the configuration is written again, and a server whose files changed (a new
 * `message_size_limit`, say) reloads them without stopping: `postfix reload` (running SMTP sessions finish on the
 * old settings, new ones get the new), Dovecot's SIGHUP (its documented reload). Unchanged files reload nothing.
 */
async function applyChangedMailConfig(log: Log, dovecotPid: number): Promise<void> {
  const L = localLayout();
  const postfixFiles = [path.join(L.postfixConfigDir, 'main.cf'), path.join(L.postfixConfigDir, 'master.cf')];
  const read = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '');
  const before = { postfix: postfixFiles.map(read).join('\0'), dovecot: read(L.dovecotConf) };
  writeMailConfig(log);
  if (postfixFiles.map(read).join('\0') !== before.postfix) {
    const reload = await run('postfix', ['-c', L.postfixConfigDir, 'reload'], { timeoutMs: 60_000 });
    if (reload.code !== 0) {
      throw new Error(`mail: postfix reload failed: ${(reload.stderr || reload.stdout).trim()}`);
    }
    log('mail: Postfix configuration changed; reloaded (no restart)');
  }
  if (read(L.dovecotConf) !== before.dovecot) {
    process.kill(dovecotPid, 'SIGHUP');
    log('mail: Dovecot configuration changed; reloaded (SIGHUP)');
  }
}

async function startDovecot(): Promise<number> {
  const pidFile = dovecotPidFile(localLayout());
  fs.rmSync(pidFile, { force: true });
  fs.appendFileSync(
    localLayout().dovecotLog,
    `=== libs/stack: starting Dovecot at ${new Date().toISOString()} ===\n`,
  );
  // in the foreground (-F) as a detached child, like the Kafka broker: its pid is the master's, and a daemonising
  // start would keep our output pipes open
  const fd = fs.openSync(localLayout().dovecotLog, 'a');
  // thousands of IMAP connections need more descriptors than the usual soft limit of 1,024: the soft limit is raised
  // to the hard one where it is lower (`exec` keeps the pid)
  const child = spawn(
    'sh',
    [
      '-c',
      'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec dovecot -F -c "$1"',
      'dovecot',
      localLayout().dovecotConf,
    ],
    {
      cwd: localLayout().root,
      detached: true,
      stdio: ['ignore', fd, fd],
    },
  );
  fs.closeSync(fd);
  let exited: string | undefined;
  child.on('error', (err) => (exited = err.message));
  child.on('exit', (code) => (exited = `dovecot exited with ${code}`));
  child.unref();
  const pid = child.pid;
  if (!pid) throw new Error(`mail: could not start dovecot: ${exited ?? 'no pid'}`);
  updateState((s) => {
    s.mail = { ...s.mail, dovecotPid: pid };
  });
  try {
    await waitFor('the Dovecot pid file', () => Promise.resolve(readPid(pidFile) === pid ? pid : undefined), {
      timeoutMs: 10_000,
      intervalMs: 100,
      abort: () => exited,
    });
  } catch (err) {
    throw new Error(
      `mail: ${errorMessage(err)}\n--- tail of ${rel(localLayout().dovecotLog)} ---\n${tailFile(localLayout().dovecotLog, 20)}`,
    );
  }
  return pid;
}

async function startPostfix(): Promise<number> {
  const configDir = localLayout().postfixConfigDir;
  // creates the queue's folders with their owners and checks the configuration
  const check = await run('postfix', ['-c', configDir, 'check'], { timeoutMs: 60_000 });
  if (check.code !== 0) {
    throw new Error(
      `mail: postfix -c ${rel(configDir)} check failed: ${(check.stderr || check.stdout).trim()}`,
    );
  }
  const pidFile = postfixPidFile(localLayout());
  fs.rmSync(pidFile, { force: true });
  fs.appendFileSync(
    localLayout().postfixLog,
    `=== libs/stack: starting Postfix at ${new Date().toISOString()} ===\n`,
  );
  // `postfix start` exits 1 silently where no syslog runs; start-fg with maillog_file = /dev/stdout works: the
  // script stays in the foreground as the master's parent, its output (the mail log) goes to postfix.log
  const fd = fs.openSync(localLayout().postfixLog, 'a');
  const child = spawn('postfix', ['-c', configDir, 'start-fg'], {
    cwd: localLayout().root,
    detached: true,
    stdio: ['ignore', fd, fd],
  });
  fs.closeSync(fd);
  let exited: string | undefined;
  child.on('error', (err) => (exited = err.message));
  child.on('exit', (code) => (exited = `postfix start-fg exited with ${code}`));
  child.unref();
  try {
    const pid = await waitFor(
      'the Postfix master',
      () => {
        const p = readPid(pidFile);
        return Promise.resolve(p && isPidAlive(p) && pidCommandLine(p).includes('master') ? p : undefined);
      },
      { timeoutMs: 20_000, intervalMs: 200, abort: () => exited },
    );
    updateState((s) => {
      s.mail = { ...s.mail, postfixPid: pid };
    });
    return pid;
  } catch (err) {
    throw new Error(
      `mail: ${errorMessage(err)}\n--- tail of ${rel(localLayout().postfixLog)} ---\n${tailFile(localLayout().postfixLog, 20)}`,
    );
  }
}

async function stopPostfix(pid: number): Promise<void> {
  await run('postfix', ['-c', localLayout().postfixConfigDir, 'stop'], { timeoutMs: 30_000 });
  for (let i = 0; i < 100 && isPidAlive(pid); i++) await sleep(100);
  if (isPidAlive(pid)) await terminate(pid, 10_000);
}

async function stopDovecot(pid: number): Promise<void> {
  await terminate(pid, 15_000);
}

/** Starts (or completes) this checkout's own Dovecot and Postfix. */
export async function startLocalMail(log: Log): Promise<ServiceUp<MailEndpoints>> {
  await ensureMailPackages(log);
  if (process.getuid?.() !== 0) {
    throw new StackUnavailableError(
      "Mail server: Postfix's master must run as root, and this stack runs as a normal user. Run `npm run stack:up` as root, " +
        `use Docker (docker-compose.mail.yml), or set ${Object.values(MAIL_ENV_VARS).join(', ')}.`,
    );
  }
  const state = readState();
  let dovecot = ownDovecotPid(state);
  let postfix = ownPostfixPid(state);
  const busy: number[] = [];
  for (const port of dovecot ? [] : [MAIL_PORTS.imap, MAIL_PORTS.imaps])
    if (await tcpAnswers(MAIL_HOST, port)) busy.push(port);
  for (const port of postfix ? [] : [MAIL_PORTS.smtp, MAIL_PORTS.submission])
    if (await tcpAnswers(MAIL_HOST, port)) busy.push(port);
  if (busy.length > 0) {
    throw new Error(
      `mail: port(s) ${busy.join(',')} on ${MAIL_HOST} are in use by processes this checkout did not start; stop them or set ${Object.values(MAIL_ENV_VARS).join(', ')}.`,
    );
  }
  writeMailConfig(log);
  const started: string[] = [];
  if (!dovecot) {
    dovecot = await startDovecot();
    started.push(`dovecot pid ${dovecot}`);
  }
  if (!postfix) {
    postfix = await startPostfix();
    started.push(`postfix master pid ${postfix}`);
  }
  log(
    `mail: started ${started.join(', ')}; waiting for IMAP and SMTP (up to ${READY_TIMEOUT_MS / 1000} s)...`,
  );
  const d = dovecot;
  const p = postfix;
  try {
    await waitHealthy(DEFAULT_MAIL_ENDPOINTS, READY_TIMEOUT_MS, () =>
      !isPidAlive(d) ? 'Dovecot exited' : !isPidAlive(p) ? 'the Postfix master exited' : undefined,
    );
  } catch (err) {
    throw new Error(
      `${errorMessage(err)}\n--- tail of ${rel(localLayout().dovecotLog)} ---\n${tailFile(localLayout().dovecotLog, 15)}\n--- tail of ${rel(localLayout().postfixLog)} ---\n${tailFile(localLayout().postfixLog, 15)}`,
    );
  }
  return {
    endpoint: DEFAULT_MAIL_ENDPOINTS,
    source: 'local-started',
    detail: `dovecot pid ${d}, postfix pid ${p}  (${rel(localLayout().root)}/{dovecot/dovecot.log,postfix/postfix.log})`,
  };
}

/** `up` for the mail server: environment, ours, already running, Docker, then local processes. */
export async function ensureMailServer(log: Log): Promise<ServiceUp<MailEndpoints>> {
  const env = fromEnv(process.env);
  if (env) {
    await waitHealthy(env, 60_000);
    return { endpoint: env, source: 'env', detail: `from ${Object.values(MAIL_ENV_VARS).join(',')}` };
  }
  const state = readState();
  const dovecot = ownDovecotPid(state);
  const postfix = ownPostfixPid(state);
  if (dovecot && postfix) {
    await applyChangedMailConfig(log, dovecot);
    const detail = await waitHealthy(DEFAULT_MAIL_ENDPOINTS, READY_TIMEOUT_MS);
    return {
      endpoint: DEFAULT_MAIL_ENDPOINTS,
      source: 'local-started',
      detail: `dovecot pid ${dovecot}, postfix pid ${postfix}  reused (${detail})`,
    };
  }
  if (dovecot || postfix) {
    log(`mail: ${dovecot ? 'Postfix' : 'Dovecot'} of this checkout is gone; starting it again`);
    return startLocalMail(log);
  }
  if (state.mail) {
    updateState((s) => {
      delete s.mail;
    });
  }

  const answering: number[] = [];
  for (const port of Object.values(MAIL_PORTS)) if (await tcpAnswers(MAIL_HOST, port)) answering.push(port);
  if (answering.length > 0) {
    const docker = state.dockerComposeFiles?.some((f) => f.endsWith('docker-compose.mail.yml'));
    try {
      const detail = await waitHealthy(DEFAULT_MAIL_ENDPOINTS, docker ? 30_000 : 5_000);
      return {
        endpoint: DEFAULT_MAIL_ENDPOINTS,
        source: docker ? 'docker' : 'local-existing',
        detail: `reused (${detail})`,
      };
    } catch (err) {
      throw new Error(
        `mail: port(s) ${answering.join(',')} on ${MAIL_HOST} answer, but not as this checkout's mail server (${errorMessage(err)}). ` +
          "If it is another checkout's (its DEV_MAIL_PASSWORD differs), set DEV_MAIL_PASSWORD to that one or stop it there. " +
          `Stop what runs there or set ${Object.values(MAIL_ENV_VARS).join(', ')}.`,
      );
    }
  }

  if (await dockerAvailable()) {
    log('mail: starting docker-compose.mail.yml');
    writeDockerMailConfig();
    await composeUp('docker-compose.mail.yml');
    const detail = await waitHealthy(DEFAULT_MAIL_ENDPOINTS, 180_000);
    return {
      endpoint: DEFAULT_MAIL_ENDPOINTS,
      source: 'docker',
      detail: `docker compose -f docker-compose.mail.yml (${detail})`,
    };
  }
  return startLocalMail(log);
}

/** Stops our Dovecot and Postfix (only if this checkout started them). */
export async function stopMailServer(state: StackState): Promise<string | undefined> {
  if (!state.mail) return undefined;
  const stopped: string[] = [];
  const postfix = ownPostfixPid(state);
  if (postfix) {
    await stopPostfix(postfix);
    if (isPidAlive(postfix)) throw new Error(`mail: the Postfix master (pid ${postfix}) did not exit`);
    stopped.push(`postfix pid ${postfix}`);
  }
  const dovecot = ownDovecotPid(state);
  if (dovecot) {
    await stopDovecot(dovecot);
    if (isPidAlive(dovecot)) throw new Error(`mail: Dovecot (pid ${dovecot}) did not exit`);
    stopped.push(`dovecot pid ${dovecot}`);
  }
  return stopped.length ? `mail ${stopped.join(', ')}` : 'mail (dovecot and postfix were already gone)';
}

/**
 * Fault helper: stops this checkout's Postfix (`postfix stop`; its queue stays on disk, Dovecot keeps running), so
 * SMTP and submission refuse connections until {@link startOwnPostfix}. Refuses a Postfix this checkout did not
 * start: a fault test must never pass without its fault. Returns the stopped master's pid.
 */
export async function stopOwnPostfix(): Promise<number> {
  const pid = ownPostfixPid(readState());
  if (!pid) throw new Error('fault: no Postfix started by this checkout is running (run `npm run stack:up`)');
  await stopPostfix(pid);
  if (isPidAlive(pid)) throw new Error(`fault: the Postfix master (pid ${pid}) did not exit`);
  return pid;
}

/** Starts this checkout's Postfix again (after {@link stopOwnPostfix}) and waits until SMTP and submission answer. */
export async function startOwnPostfix(): Promise<number> {
  if (ownPostfixPid(readState())) throw new Error('fault: Postfix is already running');
  const pid = await startPostfix();
  await waitFor(
    'Postfix SMTP and submission',
    async () => {
      await smtpEhlo(DEFAULT_MAIL_ENDPOINTS.smtp);
      await smtpEhlo(DEFAULT_MAIL_ENDPOINTS.submission);
      return true;
    },
    { timeoutMs: 20_000, intervalMs: 200 },
  );
  return pid;
}

/**
 * Fault helper: restarts this checkout's Dovecot (SIGTERM: every IMAP connection is cut, as when a server restarts,
 * then started again on the same mail) and waits until IMAP answers. Returns the new pid.
 */
export async function restartOwnDovecot(downMs = 0): Promise<number> {
  const pid = ownDovecotPid(readState());
  if (!pid) throw new Error('fault: no Dovecot started by this checkout is running (run `npm run stack:up`)');
  await stopDovecot(pid);
  if (isPidAlive(pid)) throw new Error(`fault: Dovecot (pid ${pid}) did not exit`);
  if (downMs > 0) await sleep(downMs);
  const next = await startDovecot();
  await waitFor('Dovecot IMAP', () => imapGreeting(DEFAULT_MAIL_ENDPOINTS.imap, undefined).then(() => true), {
    timeoutMs: 20_000,
    intervalMs: 200,
  });
  return next;
}

/**
 * Fault helper: the server changes one mailbox's password (`password`), or gives it back the dev password
 * (`undefined`). Only this checkout's own Dovecot (its passwd-file of changed passwords, re-read on change); in
 * force when the promise settles.
 */
export async function setOwnMailboxPassword(address: string, password: string | undefined): Promise<void> {
  if (!ownDovecotPid(readState())) {
    throw new Error('fault: no Dovecot started by this checkout is running (run `npm run stack:up`)');
  }
  assertUsablePassword(password ?? 'placeholder');
  const file = localLayout().dovecotPasswords;
  const user = address.toLowerCase();
  if (user.includes(':') || /\s/.test(user)) throw new Error(`fault: not a usable address: ${address}`);
  const kept = (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '')
    .split('\n')
    .filter((line) => line && !line.startsWith(`${user}:`));
  if (password) kept.push(`${user}:${password}`);
  // replaced in one rename, so Dovecot never reads half a file
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, kept.map((l) => `${l}\n`).join(''), { mode: 0o640 });
  const dovecotUser = systemUser('dovecot');
  if (dovecotUser) fs.chownSync(tmp, 0, dovecotUser.gid);
  fs.renameSync(tmp, file);
  // Dovecot looks at the file at most once a second (db-passwd-file's last_sync_time): a login in the second of an
  // earlier lookup would still see the old file
  await sleep(1100);
}

/** The IMAP connections one mailbox has open on this checkout's Dovecot (`doveadm who -1`: a line each). */
export async function ownImapConnections(address: string): Promise<number> {
  if (!ownDovecotPid(readState())) {
    throw new Error('fault: no Dovecot started by this checkout is running (run `npm run stack:up`)');
  }
  const user = address.toLowerCase();
  const r = await run('doveadm', ['-c', localLayout().dovecotConf, 'who', '-1', user], { timeoutMs: 30_000 });
  if (r.code !== 0)
    throw new Error(`fault: doveadm who failed (${r.code}): ${(r.stderr || r.stdout).trim()}`);
  return r.stdout.split('\n').filter((line) => line.split(/\s+/)[0] === user).length;
}

/**
 * Fault helper: ends every IMAP session of one mailbox (`doveadm kick`), as a server does after a password change;
 * answers how many connections it had.
 */
export async function kickOwnMailbox(address: string): Promise<number> {
  const open = await ownImapConnections(address);
  const r = await run('doveadm', ['-c', localLayout().dovecotConf, 'kick', address.toLowerCase()], {
    timeoutMs: 30_000,
  });
  // doveadm kick exits 68 (EX_NOUSER) when the user had no connection
  if (r.code !== 0 && r.code !== 68) {
    throw new Error(`fault: doveadm kick failed (${r.code}): ${(r.stderr || r.stdout).trim()}`);
  }
  return open;
}

/**
 * IMAP logins of `addresses` so far, counted in this checkout's Dovecot log (`undefined` when no Dovecot of this
 * checkout writes one): the fault suite's quiet window counts them, so a reconnect loop cannot pass for quiet.
 */
export function imapLoginCount(addresses: string[]): number | undefined {
  const log = localLayout().dovecotLog;
  if (!ownDovecotPid(readState()) || !fs.existsSync(log)) return undefined;
  const wanted = new Set(addresses.map((a) => a.toLowerCase()));
  let n = 0;
  for (const m of fs.readFileSync(log, 'utf8').matchAll(/imap-login: Info: Login: user=<([^>]*)>/g)) {
    if (wanted.has(m[1])) n++;
  }
  return n;
}

/**
 * Fault helper: gives one folder of a mailbox a new UIDVALIDITY (`doveadm mailbox update`), as a server restored
 * from a backup or rebuilt does: every UID a client knew for that folder is void. Returns the new value.
 */
export async function changeOwnUidValidity(address: string, folder: string): Promise<number> {
  if (!ownDovecotPid(readState())) {
    throw new Error('fault: no Dovecot started by this checkout is running (run `npm run stack:up`)');
  }
  const conf = localLayout().dovecotConf;
  const status = async () => {
    const r = await run('doveadm', ['-c', conf, 'mailbox', 'status', '-u', address, 'uidvalidity', folder], {
      timeoutMs: 30_000,
    });
    const m = /uidvalidity=(\d+)/.exec(r.stdout);
    if (r.code !== 0 || !m)
      throw new Error(`fault: doveadm mailbox status failed: ${(r.stderr || r.stdout).trim()}`);
    return Number(m[1]);
  };
  const before = await status();
  const next = before + 1000;
  const r = await run(
    'doveadm',
    ['-c', conf, 'mailbox', 'update', '-u', address, '--uid-validity', String(next), folder],
    { timeoutMs: 30_000 },
  );
  if (r.code !== 0) throw new Error(`fault: doveadm mailbox update failed: ${(r.stderr || r.stdout).trim()}`);
  const after = await status();
  if (after === before) throw new Error(`fault: UIDVALIDITY of ${folder} stayed ${before}`);
  return after;
}

// ---------------------------------------------------------------------------------------------------------
// Docker

/** Where docker-compose.mail.yml finds its configuration (mounted at /srv/mail in the container). */
export const DOCKER_MAIL_DIR = path.join(MAIL_DIR, 'docker');

/**
 * The same configuration for the container (docker/mail/Dockerfile, host network): paths under /srv/mail, the
 * certificate and key copied in beside them. Written by `up` before `docker compose up`.
 */
export function writeDockerMailConfig(): void {
  const layout = mailLayout('/srv/mail');
  const certDir = defaultCertDir();
  ensureCertificates({ certDir, hostnames: [], leafName: CERT_NAME });
  const input: MailConfigInput = {
    layout,
    password: loadDevSecrets().DEV_MAIL_PASSWORD,
    certFile: '/srv/mail/tls/mail.pem',
    keyFile: '/srv/mail/tls/mail-key.pem',
    mailUid: 65534,
    mailGid: 65534,
    instanceName: 'email-core-docker',
  };
  const out = (p: string): string => path.join(DOCKER_MAIL_DIR, path.relative('/srv/mail', p));
  for (const dir of [path.dirname(layout.dovecotConf), layout.postfixConfigDir, '/srv/mail/tls'])
    fs.mkdirSync(out(dir), { recursive: true });
  fs.writeFileSync(out(layout.dovecotConf), renderDovecotConf(input), { mode: 0o600 });
  fs.writeFileSync(path.join(out(layout.postfixConfigDir), 'main.cf'), renderPostfixMainCf(input));
  fs.writeFileSync(path.join(out(layout.postfixConfigDir), 'master.cf'), renderPostfixMasterCf(input));
  fs.copyFileSync(path.join(certDir, `${CERT_NAME}.pem`), out(input.certFile));
  fs.copyFileSync(path.join(certDir, `${CERT_NAME}-key.pem`), out(input.keyFile));
  fs.chmodSync(out(input.keyFile), 0o600);
}
