import type { Kafka } from 'kafkajs';
import { Client } from 'pg';
import { ConsumerGroups, Topics } from '@email-core/contracts';
import { createKafka } from '@email-core/kafka';
import { imapLoginCount } from '@email-core/stack/mail-server';
import type { DevMailServer } from '../dev-mail';
import { mirroredImapState, serverImapState, type ImapMailboxState } from '../imap-mailbox-state';
import { exportedState, mirroredState } from '../mailbox-state';
import type { RunningProduct } from '../product';
import { waitFor } from '../wait-for';

/** The consumer's groups, whose lag must reach 0 (dashboards' realtime groups are not mailbox work). */
const WORK_GROUPS: readonly string[] = Object.values(ConsumerGroups);

export interface KafkaBacklog {
  /** messages not yet committed, summed over the work groups and their topics */
  lag: number;
  /** messages on the dead-letter topic */
  deadLetters: number;
  /** messages ever written to the retry topic */
  retried: number;
}

/** Lag of the product's work groups and the retry / dead-letter topics' sizes, from the broker itself. */
export async function kafkaBacklog(kafka: Kafka, prefix: string): Promise<KafkaBacklog> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const size = async (topic: string) =>
      (await admin.fetchTopicOffsets(`${prefix}${topic}`)).reduce((n, p) => n + Number(p.high), 0);
    let lag = 0;
    for (const g of WORK_GROUPS) {
      const groupId = `${prefix}${g}`;
      for (const t of await admin.fetchOffsets({ groupId })) {
        const ends = await admin.fetchTopicOffsets(t.topic);
        for (const p of t.partitions) {
          const end = Number(ends.find((e) => e.partition === p.partition)?.high ?? 0);
          const committed = Number(p.offset);
          lag += Math.max(0, end - (committed < 0 ? 0 : committed));
        }
      }
    }
    return { lag, deadLetters: await size(Topics.deadLetter), retried: await size(Topics.retry) };
  } finally {
    await admin.disconnect();
  }
}

export interface ConvergedMailbox {
  address: string;
  messages: number;
  folders: number;
  unread: number;
}

export interface Convergence {
  mailboxes: ConvergedMailbox[];
  /** every mailbox's messages and folders, summed */
  messages: number;
  folders: number;
  /** rows sharing (account, graph id) in messages, message_bodies and mail_folders: must be 0 */
  duplicateRows: number;
  /** mirrored messages without their body (0) */
  bodiesMissing: number;
  /** consumer lag left on the work groups when quiet (0) */
  kafkaLag: number;
  deadLetters: number;
  /** outbox rows not published yet (0) */
  outboxUnpublished: number;
  /** mail commands neither done nor failed (0) */
  commandsInFlight: number;
  /** Graph requests the emulator got in `quietMs` once everything settled: no retry loop keeps calling (0) */
  graphRequestsWhileQuiet: number;
  /** windows of `quietMs` watched until one was quiet (1 when nothing came late) */
  quietWindows: number;
  /** retry-topic writes in that window (0) */
  retriesWhileQuiet: number;
}

/** A mailbox state as both sides of the end check hold it: folders and messages, each with an id to diff by. */
interface ComparableState {
  folders: Array<{ id: string }>;
  messages: Array<{ id: string; isRead: boolean }>;
}

/**
 * Where the end check reads the truth a mirror must equal: the Outlook emulator's export, or the mail server itself
 * over IMAP ({@link imapTruth}).
 */
export interface TruthSource {
  /** what the truth is called in messages ("the export", "the server") */
  name: string;
  /** waits until the source has nothing left to deliver (Graph's notification retries) */
  drained(deadline: number): Promise<void>;
  mirror(db: Client, accountId: string): Promise<ComparableState>;
  truth(address: string): Promise<ComparableState>;
  /** calls the product made to the provider for these addresses so far, for the quiet window (none: not counted) */
  requests?(addresses: string[]): Promise<number>;
}

/** The Outlook emulator's export as the truth (the default). */
export function emulatorTruth(product: RunningProduct): TruthSource {
  const admin = <T>(method: string, path: string, body?: unknown) =>
    product.emulator.admin<T>(method, path, body);
  return {
    name: 'the export',
    async drained(deadline) {
      // Graph's own redeliveries first: a notification refused during an outage comes back after a backoff, so
      // the system is only quiet once the emulator has nothing left to deliver
      await waitFor(
        async () =>
          (await admin<{ outstanding: number }>('GET', '/_emulator/subscriptions/deliveries')).outstanding ===
          0
            ? true
            : undefined,
        {
          timeoutMs: Math.max(5000, deadline - Date.now()),
          intervalMs: 250,
          what: 'Graph to deliver everything',
        },
      );
    },
    mirror: (db, accountId) => mirroredState(db, accountId),
    truth: (address) => exportedState(admin, address),
    async requests(addresses) {
      const stats = await admin<{ mailboxes: Record<string, { requests: number }> }>(
        'GET',
        '/_emulator/stats',
      );
      return addresses.reduce((n, a) => n + (stats.mailboxes[a]?.requests ?? 0), 0);
    },
  };
}

/**
 * An IMAP mailbox on the dev mail server as the truth: a ground-truth read over a session of the test's own (with
 * the dev password, or the one in `passwords` for a mailbox whose password the server changed).
 */
export function imapTruth(server: DevMailServer, passwords: Record<string, string> = {}): TruthSource {
  const withIds = (s: ImapMailboxState): ComparableState & ImapMailboxState => ({
    folders: s.folders.map((f) => ({ id: f.path, ...f })),
    messages: s.messages.map((m) => ({ id: `${m.folder}/${m.uidValidity}/${m.uid}`, ...m })),
  });
  return {
    name: 'the server',
    drained: () => Promise.resolve(),
    mirror: async (db, accountId) => withIds(await mirroredImapState(db, accountId)),
    truth: async (address) => withIds(await serverImapState(server, address, passwords[address])),
    // with this checkout's own Dovecot: its logins, so a reconnect loop cannot pass for quiet
    ...(imapLoginCount([]) === undefined
      ? {}
      : { requests: (addresses: string[]) => Promise.resolve(imapLoginCount(addresses) ?? 0) }),
  };
}

/**
 * The end check of every fault scenario. Waits (up to `timeoutMs`) until the emulator has no notification
 * delivery outstanding (retries included) and, for each account, the mirror in
 * Postgres equals the emulator's export, the consumer's groups have no lag, the outbox is empty and no command
 * is in flight; then watches a quiet window in which nothing may call Graph or retry. Throws with a readable
 * diff when any of it does not hold, and returns the counts it compared for the report.
 */
export async function expectConverged(
  product: RunningProduct,
  accounts: Array<{ accountId: string; address: string }>,
  opts: { timeoutMs?: number; quietMs?: number; databaseUrl?: string; source?: TruthSource } = {},
): Promise<Convergence> {
  const source = opts.source ?? emulatorTruth(product);
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const quietMs = opts.quietMs ?? 3000;
  const prefix = product.env.KAFKA_TOPIC_PREFIX ?? '';
  const kafka = createKafka({
    brokers: product.env.KAFKA_BROKERS.split(','),
    clientId: 'email-core-fault-check',
    retries: 2,
  });
  const db = new Client({ connectionString: opts.databaseUrl ?? product.databaseUrl });
  db.on('error', () => undefined);
  await db.connect();
  const ids = accounts.map((a) => a.accountId);
  const count = async (sql: string): Promise<number> =>
    Number((await db.query<{ n: string }>(sql, sql.includes('$1') ? [ids] : [])).rows[0]?.n ?? 0);
  try {
    const deadline = Date.now() + timeoutMs;
    await source.drained(deadline);
    const both = async (a: { accountId: string; address: string }) => ({
      mirror: await source.mirror(db, a.accountId),
      exported: await source.truth(a.address),
    });
    const states: Array<{ mirror: ComparableState; exported: ComparableState }> = [];
    for (const a of accounts) {
      await waitFor(
        async () => {
          const { mirror, exported } = await both(a);
          return JSON.stringify(mirror) === JSON.stringify(exported) ? true : undefined;
        },
        {
          timeoutMs: Math.max(1000, deadline - Date.now()),
          intervalMs: 250,
          what: `the mirror of ${a.address} to equal ${source.name}`,
        },
      ).catch(() => undefined);
      states.push(await both(a));
    }
    states.forEach(({ mirror, exported }, i) => {
      if (JSON.stringify(mirror) !== JSON.stringify(exported))
        throw new Error(
          `the mirror of ${accounts[i].address} differs from ${source.name}:\n${diff(mirror, exported)}`,
        );
    });

    const busy = async () => ({
      backlog: await kafkaBacklog(kafka, prefix),
      outbox: await count(`SELECT count(*) AS n FROM outbox WHERE published_at IS NULL`),
      commands: await count(
        `SELECT count(*) AS n FROM mail_commands WHERE account_id = ANY($1) AND status IN ('queued','sent')`,
      ),
    });
    const addresses = accounts.map((a) => a.address);
    const requests = async () => (source.requests ? source.requests(addresses) : 0);
    // Quiet means: nothing left to do, and then a whole window with no Graph call and no retry. Late but finite
    // work (a redelivered message, a subscription created after an outage, a scheduled reconciliation) may
    // break a window; a retry loop breaks every one until the deadline.
    let last = await busy();
    let windows = 0;
    let before = { requests: 0, retried: 0 };
    let after = { requests: 0, backlog: last.backlog };
    for (;;) {
      await waitFor(
        async () => {
          last = await busy();
          return last.backlog.lag === 0 && last.outbox === 0 && last.commands === 0 ? true : undefined;
        },
        { timeoutMs: Math.max(5000, deadline - Date.now()), intervalMs: 500, what: 'the work to drain' },
      ).catch(() => {
        throw new Error(`work left after the scenario: ${JSON.stringify(last)}\n${appTails(product)}`);
      });
      windows++;
      before = { requests: await requests(), retried: last.backlog.retried };
      await new Promise((r) => setTimeout(r, quietMs));
      after = { requests: await requests(), backlog: await kafkaBacklog(kafka, prefix) };
      const quiet =
        after.requests === before.requests &&
        after.backlog.retried === before.retried &&
        after.backlog.lag === 0;
      if (quiet || Date.now() > deadline) break;
    }
    // and the mirror still equals the export once everything stopped
    for (const [i, a] of accounts.entries()) {
      const { mirror, exported } = await both(a);
      if (JSON.stringify(mirror) !== JSON.stringify(exported))
        throw new Error(`the mirror of ${a.address} drifted from ${source.name}:\n${diff(mirror, exported)}`);
      states[i] = { mirror, exported };
    }

    const duplicateRows =
      (await count(
        `SELECT count(*) - count(DISTINCT (account_id, remote_id)) AS n FROM messages WHERE account_id = ANY($1)`,
      )) +
      (await count(
        `SELECT count(*) - count(DISTINCT (account_id, remote_id)) AS n FROM mail_folders WHERE account_id = ANY($1)`,
      )) +
      (await count(
        `SELECT count(*) - count(DISTINCT (account_id, remote_id)) AS n FROM message_bodies WHERE account_id = ANY($1)`,
      ));
    const bodiesMissing = await count(
      `SELECT count(*) AS n FROM messages m WHERE m.account_id = ANY($1) AND NOT EXISTS
         (SELECT 1 FROM message_bodies b WHERE b.account_id = m.account_id AND b.remote_id = m.remote_id)`,
    );
    const mailboxes = states.map(({ mirror }, i) => ({
      address: accounts[i].address,
      messages: mirror.messages.length,
      folders: mirror.folders.length,
      unread: mirror.messages.filter((m) => !m.isRead).length,
    }));
    const result: Convergence = {
      mailboxes,
      messages: mailboxes.reduce((n, m) => n + m.messages, 0),
      folders: mailboxes.reduce((n, m) => n + m.folders, 0),
      duplicateRows,
      bodiesMissing,
      kafkaLag: after.backlog.lag,
      deadLetters: after.backlog.deadLetters,
      outboxUnpublished: last.outbox,
      commandsInFlight: last.commands,
      quietWindows: windows,
      graphRequestsWhileQuiet: after.requests - before.requests,
      retriesWhileQuiet: after.backlog.retried - before.retried,
    };
    const problems = [
      result.duplicateRows !== 0 && `${result.duplicateRows} duplicate rows`,
      result.bodiesMissing !== 0 && `${result.bodiesMissing} messages without a body`,
      result.kafkaLag !== 0 && `lag ${result.kafkaLag} after the quiet window`,
      result.graphRequestsWhileQuiet !== 0 &&
        `${result.graphRequestsWhileQuiet} Graph requests in a quiet ${quietMs} ms window (a retry loop?)`,
      result.retriesWhileQuiet !== 0 && `${result.retriesWhileQuiet} retries in a quiet ${quietMs} ms window`,
    ].filter(Boolean);
    if (problems.length)
      throw new Error(
        `not converged: ${problems.join('; ')}\n${JSON.stringify(result)}\n${appTails(product)}`,
      );
    return result;
  } finally {
    await db.end().catch(() => undefined);
  }
}

/** the last lines each consumer printed, for a failure's message */
function appTails(product: RunningProduct): string {
  return product.consumers
    .map((c, i) => `--- consumer ${i} (last 30 lines) ---\n${c.output().split('\n').slice(-30).join('\n')}`)
    .join('\n');
}

/** A short account of how two mailbox states differ (ids missing on each side, then changed entries). */
function diff(mirror: ComparableState, exported: ComparableState): string {
  const lines: string[] = [];
  for (const key of ['messages', 'folders'] as const) {
    const m = new Map(mirror[key].map((x) => [x.id, JSON.stringify(x)]));
    const e = new Map(exported[key].map((x) => [x.id, JSON.stringify(x)]));
    const missing = [...e.keys()].filter((id) => !m.has(id));
    const extra = [...m.keys()].filter((id) => !e.has(id));
    const changed = [...e.keys()].filter((id) => m.has(id) && m.get(id) !== e.get(id));
    lines.push(
      `${key}: mirror ${m.size}, export ${e.size}; missing ${missing.length}, extra ${extra.length}, different ${changed.length}`,
    );
    for (const id of changed.slice(0, 3)) lines.push(`  mirror ${m.get(id)}\n  export ${e.get(id)}`);
    for (const id of missing.slice(0, 3)) lines.push(`  missing ${e.get(id)}`);
    for (const id of extra.slice(0, 3)) lines.push(`  extra ${m.get(id)}`);
  }
  return lines.join('\n');
}
