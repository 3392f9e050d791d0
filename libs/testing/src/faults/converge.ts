import type { Kafka } from 'kafkajs';
import { Client } from 'pg';
import { ConsumerGroups, Topics } from '@email-core/contracts';
import { createKafka } from '@email-core/kafka';
import { exportedState, mirroredState, settleMirror, type MailboxState } from '../mailbox-state';
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
  opts: { timeoutMs?: number; quietMs?: number; databaseUrl?: string } = {},
): Promise<Convergence> {
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
    // Graph's own redeliveries first: a notification refused during an outage comes back after a backoff, so
    // the system is only quiet once the emulator has nothing left to deliver
    await waitFor(
      async () =>
        (await product.emulator.admin<{ outstanding: number }>('GET', '/_emulator/subscriptions/deliveries'))
          .outstanding === 0
          ? true
          : undefined,
      {
        timeoutMs: Math.max(5000, deadline - Date.now()),
        intervalMs: 250,
        what: 'Graph to deliver everything',
      },
    );
    const states: Array<{ mirror: MailboxState; exported: MailboxState }> = [];
    for (const a of accounts) {
      states.push(
        await settleMirror(
          db,
          (method, path, body) => product.emulator.admin(method, path, body),
          a.accountId,
          a.address,
          Math.max(1000, deadline - Date.now()),
        ),
      );
    }
    states.forEach(({ mirror, exported }, i) => {
      if (JSON.stringify(mirror) !== JSON.stringify(exported))
        throw new Error(
          `the mirror of ${accounts[i].address} differs from the export:\n${diff(mirror, exported)}`,
        );
    });

    const busy = async () => ({
      backlog: await kafkaBacklog(kafka, prefix),
      outbox: await count(`SELECT count(*) AS n FROM outbox WHERE published_at IS NULL`),
      commands: await count(
        `SELECT count(*) AS n FROM mail_commands WHERE account_id = ANY($1) AND status IN ('queued','sent')`,
      ),
    });
    const requests = async () => {
      const stats = await product.emulator.admin<{ mailboxes: Record<string, { requests: number }> }>(
        'GET',
        '/_emulator/stats',
      );
      return accounts.reduce((n, a) => n + (stats.mailboxes[a.address]?.requests ?? 0), 0);
    };
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
      const mirror = await mirroredState(db, a.accountId);
      const exported = await exportedState((m, p, b) => product.emulator.admin(m, p, b), a.address);
      if (JSON.stringify(mirror) !== JSON.stringify(exported))
        throw new Error(`the mirror of ${a.address} drifted from the export:\n${diff(mirror, exported)}`);
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
function diff(mirror: MailboxState, exported: MailboxState): string {
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
