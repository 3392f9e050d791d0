/**
 * `npm run bench:imap-watch [-- <accounts>]`: one consumer watching many linked IMAP mailboxes (issue 19: 1,000 by
 * default) on the stack's Dovecot, all idle, and how fast a change still gets through.
 *
 * 1. `<accounts>` fresh mailboxes on the dev mail server, each given one small message through Postfix's SMTP.
 * 2. Baseline, in the same run and against the same mailboxes: a bare imapflow script (a child process of this
 *    one, nothing else loaded) holding one IDLE connection per mailbox on INBOX, as libs/testing's
 *    `devImapSession` opens it (IMAPS). Its RSS before and with every connection up gives the RSS per connection;
 *    then, for a spread sample of the mailboxes one after the other, a change made elsewhere (a flag set by another
 *    IMAP session, a new mail through Postfix) is timed from the server's answer (STORE's OK, Postfix's 250) to the
 *    client's `flags` / `exists` event. The baseline's connections are closed before the product starts.
 * 3. The product (`startProduct`: the real producer and consumer, IMAP_MAX_CONNECTIONS above the account count):
 *    the consumer's RSS before any link; the accounts linked through `POST /api/v1/accounts/imap` (20 per user:
 *    IMAP_LINK_RULE allows 20 links per user in 10 minutes, so there are accounts / 20 users, signed up as the
 *    links need them and waiting out the per-IP sign-up limit, 20 a minute), every account `synced`,
 *    the watcher holding an IDLE connection for each (it reads the accounts every 30 s), the consumer quiet. Then
 *    connections held (the consumer's established sockets to Dovecot's IMAPS port by `ss -tnp`, and Dovecot's own
 *    count of these users' IMAP connections by `doveadm who`), the consumer's RSS (and its V8 heap / external
 *    memory, written by a preload) with every account watched → RSS per watched account, its CPU while all idle;
 *    and the same sample of changes timed from the server's answer to the mirror row (Postgres: the flag cleared,
 *    the new mail's row), polled every 20 ms.
 *
 * `ratio` = the baseline's RSS per IDLE connection / the consumer's RSS per watched account (1 would be: watching
 * costs no more memory than a bare IDLE connection). Latency is printed beside it, not folded in: ours ends at a
 * row in Postgres (poke, Kafka, a sync round), the baseline's at an event in the process that holds the socket.
 * Both include Dovecot's own delay before it tells an IDLE client (about 500 ms on this server).
 * Environment: BENCH_IMAP_WATCH_SAMPLE (changes timed per kind and side, default 50).
 */
import { fork, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ImapFlow } from 'imapflow';
import { createTransport, type Transporter } from 'nodemailer';
import { Client } from 'pg';
import { parseHostPort } from '@email-core/config';
import { mailLayout } from '../libs/stack/src/mail-config';
import { mailRoot } from '../libs/stack/src/mail-server';
import { devMailServer, type DevMailServer } from '../libs/testing/src/dev-mail';
import { devImapSession, linkDevImap } from '../libs/testing/src/imap-mailbox-state';
import globalSetup from '../libs/testing/src/jest/global-setup';
import globalTeardown from '../libs/testing/src/jest/global-teardown';
import { signUp, startProduct, type RunningProduct } from '../libs/testing/src/product';
import { waitFor } from '../libs/testing/src/wait-for';
import { cpuSeconds, procStatus } from './proc';
import { report } from './report';
import { withEmulatorCa } from './with-emulator-ca';

const args = process.argv.slice(2);
const BARE_CHILD = args.includes('--bare-child');
const ACCOUNTS = Number(args.find((a) => /^\d+$/.test(a)) ?? process.env.BENCH_IMAP_WATCH_ACCOUNTS ?? 1000);
const SAMPLE = Math.min(ACCOUNTS, Number(process.env.BENCH_IMAP_WATCH_SAMPLE ?? 50));
/** IMAP_LINK_RULE (apps/producer accounts.controller): 20 link attempts per user in 10 minutes */
const LINKS_PER_USER = 20;
const LINK_CONCURRENCY = 8;
const CONNECT_CONCURRENCY = 50;
const MIRROR_POLL_MS = 20;
const CHANGE_TIMEOUT_MS = 15_000;
const DOMAIN = 'imap-watch.example';

type Kind = 'flag' | 'delivery';
type Side = 'baseline' | 'ours';

/** messages between this script and its baseline child */
type ToChild = { type: 'connect'; addresses: string[] } | { type: 'memory' } | { type: 'close' };
type FromChild =
  | { type: 'loaded' }
  | { type: 'connected'; connected: number; failed: string[]; seconds: number }
  | { type: 'memory'; memory: NodeJS.MemoryUsage }
  | { type: 'event'; address: string; kind: Kind; at: number };

/** the consumer's preload: its process.memoryUsage() in $BENCH_MEMORY_DIR/<pid>.json every second */
const MEMORY_PRELOAD = `
const fs = require('node:fs');
const path = require('node:path');
const file = path.join(process.env.BENCH_MEMORY_DIR, process.pid + '.json');
setInterval(() => {
  try { fs.writeFileSync(file, JSON.stringify(process.memoryUsage())); } catch {}
}, 1000).unref();
`;

const KB = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;
const MB = (bytes: number) => `${(bytes / 1048576).toFixed(0)} MB`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (m: string) => process.stderr.write(`[imap-watch] ${m}\n`);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted.length === 0
    ? NaN
    : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** runs `work` over `items`, `limit` at a time; answers the items whose work failed, with why */
async function eachLimit<T>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<Array<{ item: T; error: string }>> {
  const failed: Array<{ item: T; error: string }> = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await work(items[i], i).catch((err: unknown) =>
        failed.push({ item: items[i], error: err instanceof Error ? err.message : String(err) }),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return failed;
}

/** a process at rest: its RSS (the median of ten readings a second apart) and its CPU share over those 9 s */
async function settled(pid: number | undefined): Promise<{ rss: number; cpu: number }> {
  const readings: number[] = [];
  const c0 = cpuSeconds(pid);
  const t0 = performance.now();
  for (let i = 0; i < 10; i++) {
    readings.push(procStatus(pid, 'VmRSS'));
    if (i < 9) await sleep(1000);
  }
  return {
    rss: percentile(readings, 50),
    cpu: (cpuSeconds(pid) - c0) / ((performance.now() - t0) / 1000),
  };
}

/** waits until a process uses less than `share` of a core over `windowMs` (start-up, sync rounds done) */
async function waitQuiet(pid: number | undefined, share: number, windowMs: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c0 = cpuSeconds(pid);
    await sleep(windowMs);
    const used = (cpuSeconds(pid) - c0) / (windowMs / 1000);
    if (used < share) return;
    if (Date.now() > deadline) {
      log(`still ${(used * 100).toFixed(0)} % CPU after ${timeoutMs / 1000} s; measuring anyway`);
      return;
    }
  }
}

// ---- the baseline: a bare imapflow script (this file, forked with --bare-child) ----

function bareChild(): void {
  const server = devMailServer();
  if (!server || !process.send)
    throw new Error('the bare child needs the dev mail server and an IPC channel');
  const send = (m: FromChild) => process.send?.(m);
  const clients: ImapFlow[] = [];
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: ToChild) => {
    if (m.type === 'memory') send({ type: 'memory', memory: process.memoryUsage() });
    if (m.type === 'close') {
      void Promise.allSettled(clients.map((c) => c.logout().catch(() => c.close()))).then(() =>
        process.exit(0),
      );
    }
    if (m.type !== 'connect') return;
    const t0 = performance.now();
    void eachLimit(m.addresses, CONNECT_CONCURRENCY, async (address) => {
      const client = devImapSession(server, address);
      await client.connect();
      clients.push(client);
      client.on('exists', () => send({ type: 'event', address, kind: 'delivery', at: Date.now() }));
      client.on('flags', () => send({ type: 'event', address, kind: 'flag', at: Date.now() }));
      await client.mailboxOpen('INBOX');
      // the seed message may still be on its way from Postfix
      if ((client.mailbox ? client.mailbox.exists : 0) === 0) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('no seed message in INBOX after 60 s')), 60_000);
          client.once('exists', () => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      void client.idle().catch(() => undefined);
    }).then((failed) =>
      send({
        type: 'connected',
        connected: m.addresses.length - failed.length,
        failed: failed.slice(0, 5).map((f) => `${f.item}: ${f.error}`),
        seconds: (performance.now() - t0) / 1000,
      }),
    );
  });
  send({ type: 'loaded' });
}

class BareBaseline {
  private readonly waiters = new Map<string, (at: number) => void>();
  private readonly replies = new Map<string, (m: FromChild) => void>();

  private constructor(readonly child: ChildProcess) {
    child.on('message', (m: FromChild) => {
      if (m.type === 'event') this.waiters.get(`${m.address} ${m.kind}`)?.(m.at);
      else this.replies.get(m.type)?.(m);
    });
  }

  static async start(): Promise<BareBaseline> {
    const child = fork(__filename, ['--bare-child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const bare = new BareBaseline(child);
    await bare.reply('loaded');
    return bare;
  }

  reply<T extends FromChild['type']>(type: T, send?: ToChild): Promise<Extract<FromChild, { type: T }>> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`the bare baseline exited (${code})`));
      this.child.once('exit', onExit);
      this.replies.set(type, (m) => {
        this.replies.delete(type);
        this.child.off('exit', onExit);
        resolve(m as Extract<FromChild, { type: T }>);
      });
      if (send) this.child.send(send);
    });
  }

  /** when the bare client of `address` next reports a change of `kind` (its own clock) */
  next(address: string, kind: Kind): Promise<number> {
    const key = `${address} ${kind}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(key);
        reject(new Error(`no ${kind} event for ${address}`));
      }, CHANGE_TIMEOUT_MS);
      this.waiters.set(key, (at) => {
        clearTimeout(timer);
        this.waiters.delete(key);
        resolve(at);
      });
    });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.send({ type: 'close' } satisfies ToChild);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  }
}

// ---- changes made elsewhere, and how long until they are seen ----

interface Changes {
  server: DevMailServer;
  smtp: Transporter;
  tag: string;
}

/** Postfix's SMTP (no auth), as any sender; resolves at its 250 */
async function deliver(c: Changes, to: string, subject: string): Promise<number> {
  await c.smtp.sendMail({
    from: `sender@elsewhere.example`,
    to,
    subject,
    text: 'a new mail, delivered while every mailbox is idle',
  });
  return Date.now();
}

/** another IMAP session sets (or clears) \Flagged on INBOX's messages; resolves at STORE's OK */
async function flagElsewhere(c: Changes, address: string, set: boolean): Promise<() => Promise<number>> {
  const other = devImapSession(c.server, address);
  await other.connect();
  await other.mailboxOpen('INBOX');
  return async () => {
    try {
      if (set) await other.messageFlagsAdd('1:*', ['\\Flagged']);
      else await other.messageFlagsRemove('1:*', ['\\Flagged']);
      return Date.now();
    } finally {
      void other.logout().catch(() => other.close());
    }
  };
}

/** times one change per kind on each sampled mailbox, one after the other; misses are counted, not timed */
async function timeChanges(
  c: Changes,
  side: Side,
  sample: string[],
  seen: (address: string, kind: Kind, subject: string) => Promise<number>,
): Promise<{ flag: number[]; delivery: number[]; missed: string[] }> {
  const out = { flag: [] as number[], delivery: [] as number[], missed: [] as string[] };
  for (const [k, address] of sample.entries()) {
    const store = await flagElsewhere(c, address, side === 'baseline');
    const flagSeen = seen(address, 'flag', '');
    const flagged = await store();
    await flagSeen.then(
      (at) => out.flag.push(at - flagged),
      (err: Error) => out.missed.push(`${side} flag ${address}: ${err.message}`),
    );
    const subject = `imap-watch ${c.tag} ${side} ${k}`;
    const mailSeen = seen(address, 'delivery', subject);
    const delivered = await deliver(c, address, subject);
    await mailSeen.then(
      (at) => out.delivery.push(at - delivered),
      (err: Error) => out.missed.push(`${side} delivery ${address}: ${err.message}`),
    );
  }
  return out;
}

// ---- the product side ----

/** the consumer's established connections to the IMAP port (`ss -tnp`) */
function heldConnections(pid: number | undefined, port: number): number {
  const out = execFileSync('ss', ['-Htnp', 'state', 'established', `( dport = :${port} )`], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return out.split('\n').filter((l) => l.includes(`pid=${pid},`)).length;
}

/** Dovecot's own count of IMAP connections of the run's users (`doveadm who <mask>`) */
function dovecotConnections(tag: string): number | undefined {
  try {
    const out = execFileSync(
      'doveadm',
      ['-c', mailLayout(mailRoot()).dovecotConf, 'who', `*-${tag}@${DOMAIN}`],
      { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 30_000 },
    );
    let n = 0;
    for (const m of out.matchAll(/^\S+@\S+\s+(\d+)\s+imap\b/gm)) n += Number(m[1]);
    return n;
  } catch {
    return undefined; // not this checkout's Dovecot
  }
}

function preloadMemory(dir: string, pid: number | undefined): NodeJS.MemoryUsage | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, `${pid}.json`), 'utf8')) as NodeJS.MemoryUsage;
  } catch {
    return undefined;
  }
}

async function linkAll(
  product: RunningProduct,
  server: DevMailServer,
  addresses: string[],
  tag: string,
): Promise<{ ids: Map<string, string>; users: number; seconds: number }> {
  const t0 = performance.now();
  const users = Math.ceil(addresses.length / LINKS_PER_USER);
  // signed up as the links need them: past the per-IP sign-up limit, wait for its next window (the links of the
  // users so far take longer than that)
  const tokens = new Map<number, Promise<string>>();
  const tokenOf = (u: number): Promise<string> => {
    let token = tokens.get(u);
    if (!token) {
      token = (async () => {
        for (;;) {
          try {
            return (await signUp(product.api, `watch-owner-${u}-${tag}@${DOMAIN}`)).token;
          } catch (err) {
            if (!/-> 429/.test(err instanceof Error ? err.message : '')) throw err;
            await sleep(2000);
          }
        }
      })();
      tokens.set(u, token);
    }
    return token;
  };
  const ids = new Map<string, string>();
  const failed = await eachLimit(addresses, LINK_CONCURRENCY, async (address, i) => {
    ids.set(
      address,
      await linkDevImap(product.api, await tokenOf(Math.floor(i / LINKS_PER_USER)), server, address),
    );
  });
  if (failed.length > 0) {
    throw new Error(
      `${failed.length} link(s) failed, e.g. ${failed
        .slice(0, 3)
        .map((f) => `${f.item}: ${f.error}`)
        .join('; ')}`,
    );
  }
  return { ids, users, seconds: (performance.now() - t0) / 1000 };
}

async function waitAllSynced(db: Client, ids: string[]): Promise<number> {
  const t0 = performance.now();
  let last = 0;
  await waitFor(
    async () => {
      const rows = (
        await db.query<{ status: string; n: number }>(
          `SELECT status, count(*)::int AS n FROM mail_accounts WHERE id = ANY($1::uuid[]) GROUP BY status`,
          [ids],
        )
      ).rows;
      const synced = rows.find((r) => r.status === 'synced')?.n ?? 0;
      if (performance.now() - last > 10_000) {
        last = performance.now();
        log(`accounts: ${rows.map((r) => `${r.n} ${r.status}`).join(', ')}`);
      }
      return synced === ids.length ? true : undefined;
    },
    { timeoutMs: 20 * 60_000, intervalMs: 1000, what: `${ids.length} accounts synced` },
  );
  return (performance.now() - t0) / 1000;
}

/** when the mirror shows the change: the sampled mailbox's flags cleared, or the delivered mail's row */
function mirrorSeen(db: Client, ids: Map<string, string>) {
  return (address: string, kind: Kind, subject: string): Promise<number> =>
    waitFor(
      async () => {
        const accountId = ids.get(address);
        const row =
          kind === 'flag'
            ? await db.query(
                `SELECT 1 FROM messages WHERE account_id = $1 AND folder_remote_id = 'INBOX'
                  HAVING count(*) FILTER (WHERE flag_status = 'flagged') = 0 AND count(*) > 0`,
                [accountId],
              )
            : await db.query('SELECT 1 FROM messages WHERE account_id = $1 AND subject = $2', [
                accountId,
                subject,
              ]);
        return row.rowCount ? Date.now() : undefined;
      },
      {
        timeoutMs: CHANGE_TIMEOUT_MS,
        intervalMs: MIRROR_POLL_MS,
        what: `the mirror's ${kind} of ${address}`,
      },
    );
}

const latencyOf = (xs: number[]) => ({
  count: xs.length,
  p50Ms: Math.round(percentile(xs, 50)),
  p95Ms: Math.round(percentile(xs, 95)),
  maxMs: Math.round(percentile(xs, 100)),
});

async function main(): Promise<void> {
  if (!Number.isInteger(ACCOUNTS) || ACCOUNTS < 1) throw new Error('usage: bench:imap-watch [-- <accounts>]');
  await globalSetup();
  const server = devMailServer();
  const imaps = process.env.MAIL_IMAPS;
  if (!server || !imaps)
    throw new Error('no dev mail server (MAIL_IMAPS, DEV_MAIL_PASSWORD): is the stack up?');
  const imapsPort = parseHostPort(imaps).port;
  const smtpAt = parseHostPort(process.env.MAIL_SMTP ?? '127.0.0.1:2525');
  const tag = randomBytes(4).toString('hex');
  const addresses = Array.from({ length: ACCOUNTS }, (_, i) => `w${i}-${tag}@${DOMAIN}`);
  const sample = Array.from({ length: SAMPLE }, (_, k) => addresses[Math.floor((k * ACCOUNTS) / SAMPLE)]);
  const smtp = createTransport({
    host: smtpAt.host,
    port: smtpAt.port,
    secure: false,
    ignoreTLS: true,
    pool: true,
    maxConnections: 4,
  });
  const changes: Changes = { server, smtp, tag };
  const memoryDir = fs.mkdtempSync(path.join(os.tmpdir(), 'imap-watch-'));
  fs.writeFileSync(path.join(memoryDir, 'preload.cjs'), MEMORY_PRELOAD);
  let bare: BareBaseline | undefined;
  let product: RunningProduct | undefined;
  let db: Client | undefined;
  try {
    // 1. the mailboxes, one small message each (the envelope names up to 100 of them per mail)
    const s0 = performance.now();
    for (let i = 0; i < addresses.length; i += 100) {
      await smtp.sendMail({
        from: 'seed@elsewhere.example',
        to: `watched@${DOMAIN}`,
        envelope: { from: 'seed@elsewhere.example', to: addresses.slice(i, i + 100) },
        subject: `imap-watch seed ${tag}`,
        text: 'one small message, so the mailbox is not empty',
      });
    }
    log(`${ACCOUNTS} seed messages accepted by Postfix in ${((performance.now() - s0) / 1000).toFixed(1)} s`);

    // 2. the baseline: a bare imapflow script holding an IDLE connection per mailbox
    bare = await BareBaseline.start();
    const bareBefore = (await settled(bare.child.pid)).rss;
    const connected = await bare.reply('connected', { type: 'connect', addresses });
    if (connected.connected !== ACCOUNTS) {
      throw new Error(
        `the bare baseline connected ${connected.connected}/${ACCOUNTS}: ${connected.failed.join('; ')}`,
      );
    }
    log(`baseline: ${ACCOUNTS} IDLE connections in ${connected.seconds.toFixed(1)} s`);
    await sleep(3000);
    const bareHeld = heldConnections(bare.child.pid, imapsPort);
    const bareAfter = (await settled(bare.child.pid)).rss;
    const bareMemory = (await bare.reply('memory', { type: 'memory' })).memory;
    const bareTimes = await timeChanges(changes, 'baseline', sample, (address, kind) =>
      bare ? bare.next(address, kind) : Promise.reject(new Error('no baseline')),
    );
    await bare.close();
    bare = undefined;
    log(`baseline: done (${bareHeld} connections held, ${KB((bareAfter - bareBefore) / ACCOUNTS)} each)`);

    // 3. the product: one consumer, every account linked through the API and watched
    product = await startProduct({
      appEnv: {
        LOG_LEVEL: 'warn',
        IMAP_MAX_CONNECTIONS: String(ACCOUNTS + 100),
        NODE_OPTIONS: `--require ${path.join(memoryDir, 'preload.cjs')}`,
        BENCH_MEMORY_DIR: memoryDir,
      },
      // both apps as deployed (their bundles, built first when older than a source)
      built: true,
    });
    const pid = product.consumer.child.pid;
    db = new Client({ connectionString: product.databaseUrl });
    await db.connect();
    await sleep(10_000); // past the start (topics, assignment, first refresh)
    const before = await settled(pid);
    const oursBefore = before.rss;
    const memoryBefore = preloadMemory(memoryDir, pid);
    const linked = await linkAll(product, server, addresses, tag);
    log(`linked ${linked.ids.size} accounts (${linked.users} users) in ${linked.seconds.toFixed(1)} s`);
    const syncSeconds = await waitAllSynced(db, [...linked.ids.values()]);
    log(`all synced ${syncSeconds.toFixed(1)} s after the last link`);
    const w0 = performance.now();
    await waitFor(() => Promise.resolve(heldConnections(pid, imapsPort) >= ACCOUNTS ? true : undefined), {
      timeoutMs: 5 * 60_000,
      intervalMs: 2000,
      what: `the consumer to hold ${ACCOUNTS} IMAP connections`,
    });
    const watchSeconds = (performance.now() - w0) / 1000;
    log(`${ACCOUNTS} IDLE connections held ${watchSeconds.toFixed(1)} s after all synced; waiting for quiet`);
    await waitQuiet(pid, before.cpu + 0.05, 5000, 90_000);
    log('measuring RSS at rest, then the changes');
    const after = await settled(pid);
    const oursAfter = after.rss;
    const memoryAfter = preloadMemory(memoryDir, pid);
    const held = heldConnections(pid, imapsPort);
    const atDovecot = dovecotConnections(tag);
    const ourTimes = await timeChanges(changes, 'ours', sample, mirrorSeen(db, linked.ids));
    const heldAfter = heldConnections(pid, imapsPort);

    const barePer = (bareAfter - bareBefore) / ACCOUNTS;
    const oursPer = (oursAfter - oursBefore) / ACCOUNTS;
    const ratio = Number((barePer / oursPer).toFixed(3));
    const delta = (
      k: 'heapUsed' | 'external' | 'arrayBuffers',
      m0?: NodeJS.MemoryUsage,
      m1?: NodeJS.MemoryUsage,
    ) => (m0 && m1 ? Math.round((m1[k] - m0[k]) / ACCOUNTS) : null);
    const lat = (t: { flag: number[]; delivery: number[] }) => ({
      flag: latencyOf(t.flag),
      delivery: latencyOf(t.delivery),
      all: latencyOf([...t.flag, ...t.delivery]),
    });
    const results = {
      name: 'imap-watch',
      date: new Date().toISOString(),
      accounts: ACCOUNTS,
      sampledChangesPerKind: SAMPLE,
      baselineBareImapflow: {
        connected: connected.connected,
        connectSeconds: Number(connected.seconds.toFixed(1)),
        connectionsHeld: bareHeld,
        rssBeforeBytes: bareBefore,
        rssWithAllBytes: bareAfter,
        rssPerConnectionBytes: Math.round(barePer),
        heapUsedBytes: bareMemory.heapUsed,
        externalBytes: bareMemory.external,
        latencyChangeToEventMs: lat(bareTimes),
        missed: bareTimes.missed,
      },
      ours: {
        users: linked.users,
        linkSeconds: Number(linked.seconds.toFixed(1)),
        linkedAndSynced: linked.ids.size,
        syncedSecondsAfterLinks: Number(syncSeconds.toFixed(1)),
        allWatchedSecondsAfterSynced: Number(watchSeconds.toFixed(1)),
        connectionsHeldBySs: held,
        connectionsHeldAfterChanges: heldAfter,
        connectionsAtDovecot: atDovecot ?? null,
        consumerRssBeforeLinkBytes: oursBefore,
        consumerRssWithAllWatchedBytes: oursAfter,
        rssPerWatchedAccountBytes: Math.round(oursPer),
        perAccountHeapUsedBytes: delta('heapUsed', memoryBefore, memoryAfter),
        perAccountExternalBytes: delta('external', memoryBefore, memoryAfter),
        perAccountArrayBuffersBytes: delta('arrayBuffers', memoryBefore, memoryAfter),
        consumerCpuShareBeforeLink: Number(before.cpu.toFixed(3)),
        consumerCpuShareAllIdle: Number(after.cpu.toFixed(3)),
        latencyChangeToMirrorMs: lat(ourTimes),
        missed: ourTimes.missed,
      },
      ratio,
    };
    const ms = (l: { p50Ms: number; p95Ms: number }) => `p50 ${l.p50Ms} / p95 ${l.p95Ms} ms`;
    const b = results.baselineBareImapflow.latencyChangeToEventMs;
    const o = results.ours.latencyChangeToMirrorMs;
    const rows = [
      ['measure', 'baseline: bare imapflow IDLE', 'Email Core consumer'],
      ['mailboxes (users)', String(ACCOUNTS), `${linked.ids.size} linked + synced (${linked.users} users)`],
      [
        'time to all watched',
        `${connected.seconds.toFixed(1)} s`,
        `link ${linked.seconds.toFixed(0)} s, synced +${syncSeconds.toFixed(0)} s, IDLE +${watchSeconds.toFixed(0)} s`,
      ],
      [
        'IMAP connections held (ss; Dovecot)',
        String(bareHeld),
        `${held} (after the changes ${heldAfter}); Dovecot: ${atDovecot ?? '?'}`,
      ],
      [
        'RSS before / with all',
        `${MB(bareBefore)} / ${MB(bareAfter)}`,
        `${MB(oursBefore)} / ${MB(oursAfter)}`,
      ],
      ['RSS per connection / watched account', KB(barePer), KB(oursPer)],
      [
        '  of which V8 heap / external',
        `${KB(bareMemory.heapUsed / ACCOUNTS)} / ${KB(bareMemory.external / ACCOUNTS)} (totals / n)`,
        `${KB(results.ours.perAccountHeapUsedBytes ?? NaN)} / ${KB(results.ours.perAccountExternalBytes ?? NaN)}`,
      ],
      [
        'consumer CPU before link / all idle',
        '',
        `${(before.cpu * 100).toFixed(1)} / ${(after.cpu * 100).toFixed(1)} % of a core`,
      ],
      [`flag by another session (${SAMPLE})`, `${ms(b.flag)} (event)`, `${ms(o.flag)} (mirror row)`],
      [`new mail via Postfix (${SAMPLE})`, `${ms(b.delivery)} (event)`, `${ms(o.delivery)} (mirror row)`],
      ['all changes', ms(b.all), ms(o.all)],
      ['missed (no change seen in 15 s)', String(bareTimes.missed.length), String(ourTimes.missed.length)],
      ['baseline RSS per connection / ours per account', '', String(ratio)],
    ];
    report('imap-watch', rows, results);
    for (const m of [...bareTimes.missed, ...ourTimes.missed]) log(`missed: ${m}`);
    if (held < ACCOUNTS || bareTimes.missed.length + ourTimes.missed.length > 0) process.exitCode = 1;
  } finally {
    smtp.close();
    await bare?.close();
    await db?.end().catch(() => undefined);
    await product?.stop();
    fs.rmSync(memoryDir, { recursive: true, force: true });
    await globalTeardown();
  }
}

if (BARE_CHILD) {
  bareChild();
} else {
  withEmulatorCa();
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
