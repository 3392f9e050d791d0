/**
 * `npm run bench:imap-sync [-- <messages>] [--cpu-prof]`: the initial sync of a large IMAP mailbox on the stack's
 * dev mail server (Dovecot), end to end: a fresh mailbox is filled over IMAP (APPEND, the demo mailbox's generator,
 * eight folders, default 20,000 messages), linked through the API (`POST /api/v1/accounts/imap`), and timed from the
 * link to `synced`: login, LIST/STATUS, per folder UID SEARCH + FETCH of flags, envelope and the full source,
 * MIME parsing, Kafka, bulk upserts with bodies and search vectors.
 *
 * Baseline, measured in the same run against the same mailbox: a bare imapflow session fetching every message's
 * envelope, flags, internal date, size and full source folder by folder (what the adapter reads), with no parsing
 * and no database. `ratio` is our end-to-end messages/s divided by the baseline's messages/s.
 * Also reported: the consumer's peak RSS (VmHWM from /proc), and whether the mirror equals a ground-truth read
 * of the server (libs/testing imap-mailbox-state). `--cpu-prof` writes the apps' V8 CPU profiles (through an
 * inspector preload: Node refuses --cpu-prof in NODE_OPTIONS) into $BENCH_PROFILE_DIR (default
 * <tmp>/imap-sync-profiles) as `<pid>.cpuprofile` when the apps exit (open them in Chrome DevTools).
 */
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { bulkMailboxFolders, fillMailbox } from '../libs/stack/src/demo-mailbox';
import { devMailServer } from '../libs/testing/src/dev-mail';
import {
  devImapSession,
  devMailTarget,
  linkDevImap,
  mirroredImapState,
  serverImapState,
} from '../libs/testing/src/imap-mailbox-state';
import globalSetup from '../libs/testing/src/jest/global-setup';
import globalTeardown from '../libs/testing/src/jest/global-teardown';
import { signUp, startProduct, waitForAccountStatus } from '../libs/testing/src/product';
import { writeCpuProfilePreload } from '../scripts/cpu-profile-preload';
import { procStatus } from './proc';
import { report } from './report';
import { withEmulatorCa } from './with-emulator-ca';

const args = process.argv.slice(2);
const MESSAGES = Number(args.find((a) => /^\d+$/.test(a)) ?? process.env.BENCH_IMAP_MESSAGES ?? 20_000);
const CPU_PROF = args.includes('--cpu-prof');
const FILL_SESSIONS = 8;
const RSS_AIM_BYTES = 300 * 1024 * 1024;

const MB = (bytes: number) => `${(bytes / 1048576).toFixed(0)} MB`;

/** the baseline: one bare session reading every message as the adapter does, nothing done with it */
async function bareFetch(
  server: NonNullable<ReturnType<typeof devMailServer>>,
  address: string,
): Promise<{ messages: number; bytes: number; seconds: number }> {
  const t0 = performance.now();
  const client = devImapSession(server, address);
  await client.connect();
  let messages = 0;
  let bytes = 0;
  try {
    const boxes = (await client.list()).filter((b) => !b.flags.has('\\Noselect'));
    for (const b of boxes) {
      const box = await client.mailboxOpen(b.path, { readOnly: true });
      if (box.exists === 0) continue;
      for await (const m of client.fetch(
        '1:*',
        { uid: true, flags: true, envelope: true, internalDate: true, size: true, source: true },
        { uid: true },
      )) {
        messages += 1;
        bytes += m.source?.length ?? 0;
      }
    }
  } finally {
    await client.logout().catch(() => client.close());
  }
  return { messages, bytes, seconds: (performance.now() - t0) / 1000 };
}

async function main(): Promise<void> {
  if (!Number.isInteger(MESSAGES) || MESSAGES < 8) throw new Error('usage: bench:imap-sync [-- <messages>]');
  await globalSetup();
  const server = devMailServer();
  if (!server) throw new Error('no dev mail server (MAIL_IMAP, DEV_MAIL_PASSWORD): is the stack up?');
  const profileDir = process.env.BENCH_PROFILE_DIR ?? path.join(os.tmpdir(), 'imap-sync-profiles');
  // Node refuses --cpu-prof in NODE_OPTIONS: a preload starts the V8 profiler and writes <pid>.cpuprofile at exit
  const preload = CPU_PROF ? writeCpuProfilePreload(profileDir, 'exit') : '';
  const address = `bench-imap-${Date.now().toString(36)}@example.test`;

  // 1. the mailbox, filled over IMAP (not timed as part of the sync)
  const f0 = performance.now();
  const filled = await fillMailbox(devMailTarget(server, address), {
    folders: bulkMailboxFolders(MESSAGES),
    seed: 2019,
    sessions: FILL_SESSIONS,
  });
  const fillSeconds = (performance.now() - f0) / 1000;
  if (filled.total !== MESSAGES) throw new Error(`filled ${filled.total} messages, expected ${MESSAGES}`);
  process.stderr.write(`filled ${MESSAGES} messages in ${fillSeconds.toFixed(1)} s\n`);

  // 2. the baseline: a bare imapflow session, no database (the server's caches are as warm for us after this)
  const bare = await bareFetch(server, address);
  if (bare.messages !== MESSAGES) throw new Error(`the bare fetch read ${bare.messages} messages`);
  process.stderr.write(`bare fetch: ${bare.seconds.toFixed(1)} s\n`);

  // 3. the product: link → synced
  const product = await startProduct({
    appEnv: {
      LOG_LEVEL: 'warn',
      ...(CPU_PROF ? { NODE_OPTIONS: `--require ${preload}`, CPU_PROFILE_DIR: profileDir } : {}),
    },
    // both apps as deployed (their bundles, built first when older than a source)
    built: true,
  });
  const db = new Client({ connectionString: product.databaseUrl });
  let rssPeakPolled = 0;
  const consumerPid = product.consumer.child.pid;
  const poll = setInterval(() => {
    rssPeakPolled = Math.max(rssPeakPolled, procStatus(consumerPid, 'VmRSS'));
  }, 200);
  try {
    await db.connect();
    const { token } = await signUp(product.api);
    const rssBefore = procStatus(consumerPid, 'VmRSS');
    const t0 = performance.now();
    const accountId = await linkDevImap(product.api, token, server, address);
    await waitForAccountStatus(product.api, token, 'synced', {
      accountId,
      timeoutMs: 30 * 60_000,
      intervalMs: 250,
    });
    const seconds = (performance.now() - t0) / 1000;
    clearInterval(poll);
    const hwm = procStatus(consumerPid, 'VmHWM');
    const synced = Number(
      (await db.query<{ n: string }>('SELECT count(*) AS n FROM messages WHERE account_id = $1', [accountId]))
        .rows[0]?.n,
    );
    if (synced !== MESSAGES) throw new Error(`synced ${synced} messages, expected ${MESSAGES}`);
    const [mirror, truth] = await Promise.all([
      mirroredImapState(db, accountId),
      serverImapState(server, address),
    ]);
    const equal = JSON.stringify(mirror) === JSON.stringify(truth);

    const ours = synced / seconds;
    const bareRate = bare.messages / bare.seconds;
    const ratio = Number((ours / bareRate).toFixed(3));
    const results = {
      name: 'imap-sync',
      date: new Date().toISOString(),
      messages: synced,
      folders: filled.folders.length,
      fill: {
        seconds: Number(fillSeconds.toFixed(1)),
        messagesPerSecond: Math.round(MESSAGES / fillSeconds),
        sessions: FILL_SESSIONS,
      },
      endToEnd: { seconds: Number(seconds.toFixed(1)), messagesPerSecond: Math.round(ours) },
      baselineBareFetch: {
        messages: bare.messages,
        megabytes: Number((bare.bytes / 1048576).toFixed(1)),
        seconds: Number(bare.seconds.toFixed(2)),
        messagesPerSecond: Math.round(bareRate),
      },
      consumerRssBeforeLinkBytes: rssBefore,
      consumerPeakRssBytes: Math.max(hwm, rssPeakPolled),
      consumerPeakRssAimBytes: RSS_AIM_BYTES,
      mirrorEqualsServer: equal,
      ratio,
    };
    const rows = [
      ['measure', 'value'],
      ['messages (folders)', `${synced} (${filled.folders.length})`],
      [
        `fill over IMAP (APPEND, ${FILL_SESSIONS} sessions)`,
        `${fillSeconds.toFixed(1)} s, ${results.fill.messagesPerSecond} msg/s`,
      ],
      [
        'baseline: bare imapflow fetch (envelope, flags, source)',
        `${bare.seconds.toFixed(1)} s, ${Math.round(bareRate)} msg/s, ${results.baselineBareFetch.megabytes} MB`,
      ],
      ['Email Core: link → synced', `${seconds.toFixed(1)} s, ${Math.round(ours)} msg/s`],
      ['consumer RSS before link / peak', `${MB(rssBefore)} / ${MB(results.consumerPeakRssBytes)}`],
      ['mirror equals the server', equal ? 'yes' : 'NO'],
      ['ours / bare fetch', String(ratio)],
    ];
    report('imap-sync', rows, results);
    if (!equal) process.exitCode = 1;
  } finally {
    clearInterval(poll);
    await db.end().catch(() => undefined);
    await product.stop();
    await globalTeardown();
  }
}

withEmulatorCa();
main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
