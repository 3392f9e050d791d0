/**
 * `npm run bench:read`: reads of one large mailbox through the real producer API (JWT guard, validation, the
 * QueryBus, the Redis query cache, Postgres), against the same reads straight on the database.
 *
 * The mailbox (BENCH_READ_MESSAGES, 1,000,000 by default) is written straight into Postgres with COPY, not through
 * sync: one generation pass into two COPY streams (messages, bodies), the search vector computed in the generator
 * and checked against the consumer's SEARCH_VECTOR_SQL on a sample, the mirror's secondary indexes built after the
 * load (as a restore would), folder counts by the consumer's RECOUNT_SQL, then VACUUM ANALYZE (what autovacuum
 * would have done by then). Shape: seven folders (Inbox about 55%), 30% unread, 3,000 senders with a Zipf share,
 * subjects and bodies drawn from a 5,000-word vocabulary (Zipf), Graph-length ids (152 and 120 characters).
 *
 * Kinds: an Inbox first page, a deep keyset page (from a cursor 10-90% down the Inbox, following nextCursor),
 * the unread filter, the sender filter (one sender's address, account-wide), full-text search (words of every
 * frequency, account-wide), the folder list with counts, the Inbox's conversations (first page; the generator's
 * threads are three consecutive messages, each in a folder of its own draw). Each kind on its own: one reader alone
 * (BENCH_READ_SOLO_SECONDS, at least 3 requests), then BENCH_READ_READERS (50) readers for its share of
 * BENCH_READ_SECONDS (30 s over seven kinds); a kind whose lone request takes over 250 ms at p50 is not run with 50
 * readers (it would hold both cores for minutes). Before each request the bench INCRs the account's cache version,
 * as the consumer does after a write batch, so every one of these takes the cache-miss path. Then the cached
 * page: 50 readers repeating one Inbox first page (BENCH_READ_CACHED_SECONDS, 10 s), answered from Redis.
 *
 * Read side (issue 21): the producer's queries read the stack's streaming replica (DATABASE_READ_URL), as under
 * `npm start`; the bench waits until the replica has replayed the fill, and the baseline reads the replica too.
 * BENCH_READ_REPLICA=0 (or a stack without a replica) reads the primary. The table says which side served, with
 * the reads each side answered during the API phases (the producer's /health counters).
 *
 * Baseline, in the same run: the same kinds, parameters and phases through MailReadRepository itself over 50 bare
 * `pg` clients, one per reader: the repository's own SQL without HTTP, Nest, auth or the cache.
 * `ratio` = baseline p95 / API p95 of the Inbox first page with 50 each (1 = the API adds nothing at p95).
 * Capacity, per kind (Little's law): 50 closed-loop readers with a p95 under the aim are served at more than
 * 50 / aim requests a second (2,500/s for a 20 ms aim); the table sets that beside the rate the bare SQL reached with
 * 50 clients, so a machine that cannot meet an aim at 50 readers shows it.
 *
 * `--explain`: also prints EXPLAIN (ANALYZE, BUFFERS) of each kind's statement (`--explain-only`: then stops).
 * `--growth`: the whole run at each size of BENCH_READ_GROWTH_SIZES (10k, 100k, 1M), written to
 * bench/results/read-growth.json; the largest size is also bench/results/read.json.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { finished } from 'node:stream/promises';
import { once } from 'node:events';
import type { Cluster } from 'ioredis';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { Pool } from 'undici';
import { CacheKeys, createRedisCluster } from '@email-core/cache';
import {
  decodeMessageCursor,
  MailReadRepository,
  type MessageCursorKey,
  type MessageListFilter,
} from '@email-core/database';
import type { DataSource } from 'typeorm';
import { RECOUNT_SQL } from '../libs/database/src/mail/mail-folders.repository';
import { SEARCH_VECTOR_SQL } from '../libs/database/src/mail/messages.repository';
import globalSetup from '../libs/testing/src/jest/global-setup';
import globalTeardown from '../libs/testing/src/jest/global-teardown';
import { signUp, startProduct, type RunningProduct } from '../libs/testing/src/product';
import { currentTestRun } from '../libs/testing/src/test-run';
import { cpuSeconds } from './proc';
import { report } from './report';
import { withEmulatorCa } from './with-emulator-ca';
import { prng } from '../apps/outlook-emulator/src/store/generator';

const MESSAGES = Number(process.env.BENCH_READ_MESSAGES ?? 1_000_000);
const SECONDS = Number(process.env.BENCH_READ_SECONDS ?? 30);
const CACHED_SECONDS = Number(process.env.BENCH_READ_CACHED_SECONDS ?? 10);
const READERS = Number(process.env.BENCH_READ_READERS ?? 50);
const SOLO_SECONDS = Number(process.env.BENCH_READ_SOLO_SECONDS ?? 2);
const SATURATING_MS = 250;
const GROWTH_SIZES = (process.env.BENCH_READ_GROWTH_SIZES ?? '10000,100000,1000000').split(',').map(Number);
const PAGE = 50;
const AIMS_MS = { list: 20, search: 100, cached: 3 };

const KINDS = ['first', 'deep', 'unread', 'sender', 'search', 'counts', 'conversations'] as const;
type Kind = (typeof KINDS)[number];
type AllKinds = Kind | 'cached';
const AIM: Record<AllKinds, number> = {
  first: AIMS_MS.list,
  deep: AIMS_MS.list,
  unread: AIMS_MS.list,
  sender: AIMS_MS.list,
  search: AIMS_MS.search,
  counts: AIMS_MS.list,
  conversations: AIMS_MS.list,
  cached: AIMS_MS.cached,
};
const LABEL: Record<AllKinds, string> = {
  first: 'Inbox first page',
  deep: 'deep keyset page (Inbox)',
  unread: 'unread filter (Inbox)',
  sender: 'sender filter (account)',
  search: 'full-text search (account)',
  counts: 'folders with counts',
  conversations: 'Inbox conversations, first page',
  cached: 'cached page (Redis)',
};

// ---------------------------------------------------------------------------------------------------------------
// the mailbox

/** a lookup table turning a uniform draw into a Zipf(s) rank over n items (2^20 slots) */
function zipfTable(n: number, s: number): Uint16Array {
  const weights = Array.from({ length: n }, (_, r) => 1 / Math.pow(r + 1, s));
  const total = weights.reduce((a, b) => a + b, 0);
  const table = new Uint16Array(1 << 20);
  let rank = 0;
  let cum = weights[0] / total;
  for (let i = 0; i < table.length; i++) {
    while ((i + 0.5) / table.length > cum && rank < n - 1) cum += weights[++rank] / total;
    table[i] = rank;
  }
  return table;
}

const SYLLABLES =
  'ba be bi bo bu da de di do du fa fe fi fo ka ke ki ko ku la le li lo lu ma me mi mo mu na ne ni no nu pa pe pi po pu ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo za ze zi zo'.split(
    ' ',
  );

interface Folder {
  id: string;
  parentId: string | null;
  name: string;
  wellKnown: string | null;
  share: number;
}

interface Mailbox {
  vocabulary: string[];
  senders: Array<{ name: string; address: string }>;
  folders: Folder[];
  inbox: Folder;
}

function graphLikeId(prefix: string, n: number, length: number): string {
  const core = `${prefix}${n.toString(36).padStart(8, '0')}`;
  return core + 'A'.repeat(Math.max(0, length - core.length - 1)) + '=';
}

function designMailbox(): Mailbox {
  const r = prng(7);
  const words = new Set<string>();
  while (words.size < 5000) {
    const n = 2 + Math.floor(r() * 3);
    let w = '';
    for (let i = 0; i < n; i++) w += SYLLABLES[Math.floor(r() * SYLLABLES.length)];
    words.add(w);
  }
  const vocabulary = [...words];
  const first = vocabulary.slice(0, 300).map((w) => w[0].toUpperCase() + w.slice(1));
  const last = vocabulary.slice(300, 900).map((w) => w[0].toUpperCase() + w.slice(1));
  const senders = Array.from({ length: 3000 }, (_, i) => {
    const f = first[Math.floor(r() * first.length)];
    const l = last[Math.floor(r() * last.length)];
    return { name: `${f} ${l}`, address: `${f}.${l}${i}@mail${i % 40}.example`.toLowerCase() };
  });
  const folder = (
    n: number,
    name: string,
    wellKnown: string | null,
    share: number,
    parentId: string | null = null,
  ) => ({
    id: graphLikeId('AQMkADAwATM0MDAAMS1iZjFmFolder', n, 120),
    parentId,
    name,
    wellKnown,
    share,
  });
  const inbox = folder(1, 'Inbox', 'inbox', 0.55);
  const folders = [
    inbox,
    folder(2, 'Archive', 'archive', 0.18),
    folder(3, 'Sent Items', 'sentitems', 0.12),
    folder(4, 'Projects', null, 0.06, inbox.id),
    folder(5, 'Newsletters', null, 0.05),
    folder(6, 'Deleted Items', 'deleteditems', 0.03),
    folder(7, 'Drafts', 'drafts', 0.01),
  ];
  return { vocabulary, senders, folders, inbox };
}

/**
 * The search vector the consumer's SEARCH_VECTOR_SQL computes, for this generator's text: lower-case ASCII words
 * separated by single spaces, a "First Last" name and a `first.last<n>@mail<k>.example` address. to_tsvector
 * ('simple') makes each word a lexeme at the next position and the address one `email` lexeme (then its parts,
 * from the translate()); `||` shifts the right side's positions past the left side's last. Checked against the SQL
 * on a sample after every fill (`verifySearchVectors`).
 */
function searchVector(subject: string, fromName: string, fromAddress: string, body: string): string {
  const positions = new Map<string, string[]>();
  let pos = 0;
  const add = (lexemes: string[], weight: string) => {
    for (const l of lexemes) {
      pos += 1;
      const list = positions.get(l);
      const p = `${pos}${weight}`;
      if (list) {
        if (list.length < 256) list.push(p);
      } else positions.set(l, [p]);
    }
  };
  add(subject.split(' '), 'A');
  add([...fromName.toLowerCase().split(' '), fromAddress, ...fromAddress.split(/[@.]/)], 'B');
  add(body.split(' '), '');
  return [...positions].map(([l, p]) => `${l}:${p.join(',')}`).join(' ');
}

interface GeneratedMessage {
  remoteId: string;
  line: string;
  body: string;
}

/** the mailbox's messages oldest first, deterministic: a second pass yields the same rows (for the bodies) */
function* generateMessages(box: Mailbox, count: number): Generator<GeneratedMessage> {
  const r = prng(4242);
  const wordTable = zipfTable(box.vocabulary.length, 1.0);
  const senderTable = zipfTable(box.senders.length, 0.9);
  const word = () => box.vocabulary[wordTable[Math.floor(r() * wordTable.length)]];
  const words = (n: number) => Array.from({ length: n }, word).join(' ');
  const cum: number[] = [];
  let acc = 0;
  for (const f of box.folders) cum.push((acc += f.share));
  const end = Date.UTC(2026, 10, 1);
  const span = 5 * 365 * 86400_000; // five years of mail
  const to = JSON.stringify([{ name: 'Bench Reader', address: 'bench-read@contoso.example' }]);
  for (let i = 0; i < count; i++) {
    const u = r() * acc;
    const folder = box.folders[cum.findIndex((c) => u < c)] ?? box.folders[0];
    const sender = box.senders[senderTable[Math.floor(r() * senderTable.length)]];
    const subject = words(3 + Math.floor(r() * 6));
    const body = words(25 + Math.floor(r() * 36));
    const receivedMs = end - span + Math.floor(((i + r()) * span) / count);
    const unread = r() < 0.3;
    const flag = r() < 0.03 ? 'flagged' : 'notFlagged';
    const importance = r() < 0.05 ? 'high' : 'normal';
    const attachments = r() < 0.15;
    const remoteId = graphLikeId('AAMkADAwATM0MDAAMS1iZjFmLTk4ZWItMDACLTAwCgBGAAADMsg', i, 152);
    // the columns of MESSAGE_COLUMNS below, in COPY's text format (nothing generated needs escaping)
    const line = [
      remoteId,
      folder.id,
      'ck1',
      subject,
      sender.name,
      sender.address,
      to,
      '[]',
      body.slice(0, 160),
      new Date(receivedMs).toISOString(),
      new Date(receivedMs - 2000).toISOString(),
      unread ? 'f' : 't',
      flag,
      importance,
      attachments ? 't' : 'f',
      `conv-${Math.floor(i / 3)}`,
      `<${remoteId}@bench>`,
      searchVector(subject, sender.name, sender.address, body),
    ].join('\t');
    yield { remoteId, line, body };
  }
}

const MESSAGE_COLUMNS = `remote_id, folder_remote_id, change_key, subject, from_name, from_address, to_recipients,
  cc_recipients, body_preview, received_at, sent_at, is_read, flag_status, importance, has_attachments,
  conversation_id, internet_message_id, search`;

/** COPY text of both tables in chunks of 5,000 messages: the whole mailbox is never in memory */
function* copyChunks(
  rows: Iterable<GeneratedMessage>,
  accountId: string,
): Generator<{ messages: Buffer; bodies: Buffer }> {
  let messages: string[] = [];
  let bodies: string[] = [];
  const flush = () => {
    const chunk = {
      messages: Buffer.from(messages.join('\n') + '\n'),
      bodies: Buffer.from(bodies.join('\n') + '\n'),
    };
    messages = [];
    bodies = [];
    return chunk;
  };
  for (const m of rows) {
    messages.push(`${accountId}\t${m.line}`);
    bodies.push(`${accountId}\t${m.remoteId}\ttext\t${m.body}`);
    if (messages.length === 5000) yield flush();
  }
  if (messages.length > 0) yield flush();
}

/** one generation pass into two COPY streams side by side (the bodies on a second connection) */
async function copyMailbox(db: Client, bodiesDb: Client, box: Mailbox, count: number, accountId: string) {
  const toMessages = db.query(copyFrom(`COPY messages (account_id, ${MESSAGE_COLUMNS}) FROM STDIN`));
  const toBodies = bodiesDb.query(
    copyFrom('COPY message_bodies (account_id, remote_id, content_type, content) FROM STDIN'),
  );
  const done = Promise.all([finished(toMessages), finished(toBodies)]);
  done.catch(() => undefined); // awaited below; a failure also rejects the drain waits
  for (const chunk of copyChunks(generateMessages(box, count), accountId)) {
    toMessages.write(chunk.messages);
    toBodies.write(chunk.bodies);
    // a 'drain' may come before we listen for it: wait only while a stream still needs one
    for (const stream of [toMessages, toBodies]) {
      if (stream.writableNeedDrain) await Promise.race([once(stream, 'drain'), done]);
    }
  }
  toMessages.end();
  toBodies.end();
  await done;
}

/** the vectors written by COPY equal what SEARCH_VECTOR_SQL computes from the same row and body, on a sample */
async function verifySearchVectors(db: Client, accountId: string): Promise<number> {
  const { rows } = await db.query<{ checked: string; differ: string }>(
    `SELECT count(*) AS checked, count(*) FILTER (WHERE x.search <> ${SEARCH_VECTOR_SQL('x')}) AS differ
     FROM (SELECT m.*, b.content_type AS body_type, b.content AS body_content
           FROM messages m TABLESAMPLE SYSTEM (1) REPEATABLE (7)
           JOIN message_bodies b ON b.account_id = m.account_id AND b.remote_id = m.remote_id
           WHERE m.account_id = $1 LIMIT 2000) x`,
    [accountId],
  );
  const pairs = await db.query<{ m: string; b: string }>(
    `SELECT (SELECT count(*) FROM messages WHERE account_id = $1) AS m,
            (SELECT count(*) FROM message_bodies b WHERE b.account_id = $1
               AND EXISTS (SELECT 1 FROM messages m WHERE m.account_id = b.account_id AND m.remote_id = b.remote_id)) AS b`,
    [accountId],
  );
  if (pairs.rows[0]?.m !== pairs.rows[0]?.b)
    throw new Error(`bodies do not match messages: ${JSON.stringify(pairs.rows[0])}`);
  const differ = Number(rows[0]?.differ);
  if (differ > 0)
    throw new Error(`${differ} of ${rows[0]?.checked} search vectors differ from SEARCH_VECTOR_SQL`);
  return Number(rows[0]?.checked);
}

interface Filled {
  accountId: string;
  fillSeconds: { copy: number; indexes: number; vacuum: number; total: number };
  vectorsChecked: number;
}

/** empties the mirror, then writes `count` messages for a new account of `userId` */
async function fillMailbox(db: Client, box: Mailbox, userId: string, count: number): Promise<Filled> {
  const accountId = randomUUID();
  await db.query('TRUNCATE message_bodies, messages, mail_changes, folder_rebuild_seen');
  await db.query(`DELETE FROM mail_accounts`);
  await db.query(
    `INSERT INTO mail_accounts (id, user_id, provider, external_user_id, email, display_name, status,
                                sync_started_at, sync_completed_at)
     VALUES ($1, $2, 'outlook', $3, 'bench-read@contoso.example', 'Bench Reader', 'synced', now(), now())`,
    [accountId, userId, `bench-read-${accountId}`],
  );
  for (const f of box.folders) {
    await db.query(
      `INSERT INTO mail_folders (account_id, remote_id, parent_remote_id, display_name, well_known_name, synced_at)
       VALUES ($1, $2, $3, $4, $5, now())`,
      [accountId, f.id, f.parentId, f.name, f.wellKnown],
    );
  }
  // as a restore would: secondary indexes built after the load, each from its own definition
  const indexes = (
    await db.query<{ name: string; def: string }>(
      `SELECT i.indexname AS name, i.indexdef AS def FROM pg_indexes i
       WHERE i.schemaname = current_schema() AND i.tablename = 'messages'
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`,
    )
  ).rows;
  for (const ix of indexes) await db.query(`DROP INDEX ${ix.name}`);
  await db.query(`ALTER TABLE messages DISABLE TRIGGER USER`);
  // the bodies' foreign key is checked by construction (the same generator); off while both COPYs run at once
  await db.query(`ALTER TABLE message_bodies DISABLE TRIGGER ALL`);
  const bodiesDb = new Client({ connectionString: currentTestRun().databaseUrl });
  await bodiesDb.connect();
  const t0 = performance.now();
  try {
    await copyMailbox(db, bodiesDb, box, count, accountId);
  } finally {
    await bodiesDb.end().catch(() => undefined);
    await db.query(`ALTER TABLE message_bodies ENABLE TRIGGER ALL`);
    await db.query(`ALTER TABLE messages ENABLE TRIGGER USER`);
  }
  const t1 = performance.now();
  await db.query(`SET maintenance_work_mem = '1GB'`);
  for (const ix of indexes) await db.query(ix.def);
  await db.query(`RESET maintenance_work_mem`);
  await db.query(RECOUNT_SQL(false), [accountId]);
  const t2 = performance.now();
  await db.query('VACUUM ANALYZE messages');
  await db.query('VACUUM ANALYZE message_bodies');
  await db.query('VACUUM ANALYZE mail_folders');
  const t3 = performance.now();
  const vectorsChecked = await verifySearchVectors(db, accountId);
  const sec = (a: number, b: number) => Number(((b - a) / 1000).toFixed(1));
  return {
    accountId,
    fillSeconds: { copy: sec(t0, t1), indexes: sec(t1, t2), vacuum: sec(t2, t3), total: sec(t0, t3) },
    vectorsChecked,
  };
}

async function relationSizes(db: Client): Promise<Record<string, number>> {
  const rows = (
    await db.query<{ name: string; bytes: string }>(
      `SELECT 'messages (table)' AS name, pg_table_size('messages') AS bytes
       UNION ALL SELECT 'messages (indexes)', pg_indexes_size('messages')
       UNION ALL SELECT 'message_bodies (table + indexes)', pg_total_relation_size('message_bodies')
       UNION ALL SELECT 'index ' || indexname, pg_relation_size(format('%I', indexname)::regclass)
         FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'messages'`,
    )
  ).rows;
  return Object.fromEntries(rows.map((r) => [r.name, Number(r.bytes)]));
}

// ---------------------------------------------------------------------------------------------------------------
// the requests

interface Workload {
  accountId: string;
  inboxId: string;
  deepCursors: MessageCursorKey[];
  senders: string[];
  queries: string[];
}

async function workload(db: Client, box: Mailbox, accountId: string): Promise<Workload> {
  // 200 positions spread over the Inbox's 10%..90%, one scan
  const { rows } = await db.query<{ k: string; id: string }>(
    `SELECT k, id FROM (
       SELECT to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS k, remote_id AS id,
              row_number() OVER (ORDER BY received_at DESC, remote_id DESC) AS n,
              count(*) OVER () AS total
       FROM messages WHERE account_id = $1 AND folder_remote_id = $2) x
     WHERE n > total / 10 AND n < total * 9 / 10 AND n % greatest(1, total / 250) = 0`,
    [accountId, box.inbox.id],
  );
  const r = prng(99);
  const pick = <T>(list: T[]) => list[Math.floor(r() * list.length)];
  const v = box.vocabulary;
  // search terms of every frequency: mostly one word of the long tail, some common words, some two-word queries
  const queries = Array.from({ length: 500 }, (_, i) => {
    if (i % 10 === 0) return v[Math.floor(r() * 50)];
    if (i % 10 === 1) return `${pick(v)} ${pick(v.slice(0, 200))}`;
    if (i % 10 === 2) return `"${v[Math.floor(r() * 20)]} ${v[Math.floor(r() * 20)]}"`;
    return pick(v.slice(50));
  });
  return {
    accountId,
    inboxId: box.inbox.id,
    deepCursors: rows.map((x) => ({ receivedAt: x.k, id: x.id })),
    senders: Array.from({ length: 500 }, () => pick(box.senders).address),
    queries,
  };
}

interface ListRequest {
  filter: MessageListFilter;
  cursor?: MessageCursorKey;
}

/** one reader's next request of a kind; `deep` walks on from the reader's own cursor */
class ReaderState {
  private readonly r: () => number;
  cursor: MessageCursorKey | undefined;
  private pagesLeft = 0;

  constructor(
    private readonly w: Workload,
    seed: number,
  ) {
    this.r = prng(seed);
  }

  private pick<T>(list: T[]): T {
    return list[Math.floor(this.r() * list.length)];
  }

  next(kind: Kind): ListRequest | null {
    const inbox = { folderId: this.w.inboxId };
    switch (kind) {
      case 'first':
        return { filter: inbox };
      case 'deep':
        if (this.pagesLeft <= 0 || !this.cursor) {
          this.cursor = this.pick(this.w.deepCursors);
          this.pagesLeft = 10;
        }
        this.pagesLeft -= 1;
        return { filter: inbox, cursor: this.cursor };
      case 'unread':
        return { filter: { ...inbox, unread: true } };
      case 'sender':
        return { filter: { from: this.pick(this.w.senders) } };
      case 'search':
        return { filter: { q: this.pick(this.w.queries) } };
      case 'counts':
        return null;
      case 'conversations':
        return { filter: inbox };
    }
  }
}

function query(req: ListRequest): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(req.filter)) p.set(k, String(v));
  p.set('limit', String(PAGE));
  if (req.cursor)
    p.set(
      'cursor',
      Buffer.from(JSON.stringify([req.cursor.receivedAt, req.cursor.id])).toString('base64url'),
    );
  return p.toString();
}

type Samples = Record<AllKinds, number[]>;
const emptySamples = (): Samples => ({
  first: [],
  deep: [],
  unread: [],
  sender: [],
  search: [],
  counts: [],
  conversations: [],
  cached: [],
});

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

interface KindStats {
  n: number;
  p50: number;
  p95: number;
  p99: number;
}

function stats(samples: Samples): Partial<Record<AllKinds, KindStats>> {
  const out: Partial<Record<AllKinds, KindStats>> = {};
  for (const [kind, list] of Object.entries(samples) as Array<[AllKinds, number[]]>) {
    if (list.length === 0) continue;
    const s = [...list].sort((a, b) => a - b);
    const r2 = (x: number) => Number(x.toFixed(2));
    out[kind] = {
      n: s.length,
      p50: r2(percentile(s, 50)),
      p95: r2(percentile(s, 95)),
      p99: r2(percentile(s, 99)),
    };
  }
  return out;
}

/** runs `readers` loops until `seconds` have passed; each loop calls `step` and times it */
async function runReaders(
  readers: number,
  seconds: number,
  step: (reader: number, i: number) => Promise<{ kind: AllKinds; ms: number }>,
): Promise<{ samples: Samples; requests: number; seconds: number; errors: number; firstError?: string }> {
  const samples = emptySamples();
  const until = performance.now() + seconds * 1000;
  let errors = 0;
  let firstError: string | undefined;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: readers }, async (_, reader) => {
      for (let i = reader; performance.now() < until; i++) {
        try {
          const { kind, ms } = await step(reader, i);
          samples[kind].push(ms);
        } catch (err) {
          errors += 1;
          firstError ??= err instanceof Error ? err.message : String(err);
        }
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  const requests = Object.values(samples).reduce((a, l) => a + l.length, 0);
  return { samples, requests, seconds: elapsed, errors, firstError };
}

interface KindRun {
  /** one reader alone, each kind in turn: the kind's own time */
  solo: Samples;
  /** READERS readers on one kind at a time, BENCH_READ_SECONDS split evenly over the kinds */
  loaded: Samples;
  loadedRequests: number;
  loadedSeconds: number;
  /** requests per second of each kind with READERS readers */
  loadedRates: Partial<Record<Kind, number>>;
  /** kinds not run with READERS readers: one request alone took over SATURATING_MS at p50 */
  skipped: Kind[];
  errors: number;
  firstError?: string;
}

/**
 * Each kind on its own (a slow kind in a mix would hold every reader and hide the others' figures): SOLO
 * samples with one reader (at least 3, for BENCH_READ_SOLO_SECONDS), then READERS readers for its share of
 * BENCH_READ_SECONDS. A kind whose lone request takes over SATURATING_MS at p50 is not run with READERS readers
 * (50 concurrent multi-second scans would hold two cores for minutes): `skip` decides, given that p50.
 */
async function measureKinds(
  step: (kind: Kind) => (reader: number, i: number) => Promise<number>,
  skip: (kind: Kind, soloP50: number) => boolean,
): Promise<KindRun> {
  const run: KindRun = {
    solo: emptySamples(),
    loaded: emptySamples(),
    loadedRequests: 0,
    loadedSeconds: 0,
    loadedRates: {},
    skipped: [],
    errors: 0,
  };
  for (const kind of KINDS) {
    const one = step(kind);
    const t0 = performance.now();
    for (let i = 0; run.solo[kind].length < 3 || performance.now() - t0 < SOLO_SECONDS * 1000; i++) {
      try {
        run.solo[kind].push(await one(0, i));
      } catch (err) {
        run.errors += 1;
        run.firstError ??= err instanceof Error ? err.message : String(err);
        if (run.errors > 20) break;
      }
    }
    const p50 = percentile(
      [...run.solo[kind]].sort((x, y) => x - y),
      50,
    );
    if (skip(kind, p50)) {
      run.skipped.push(kind);
      continue;
    }
    const r = await runReaders(READERS, SECONDS / KINDS.length, async (reader, i) => ({
      kind,
      ms: await one(reader, i),
    }));
    run.loaded[kind] = r.samples[kind];
    run.loadedRates[kind] = r.requests / Math.max(r.seconds, 0.001);
    run.loadedRequests += r.requests;
    run.loadedSeconds += r.seconds;
    run.errors += r.errors;
    run.firstError ??= r.firstError;
  }
  return run;
}

/** the API path: READERS readers over one undici pool, keep-alive */
async function apiPhase(
  product: RunningProduct,
  redis: Cluster,
  token: string,
  w: Workload,
): Promise<{ kinds: KindRun; cached: Awaited<ReturnType<typeof runReaders>> }> {
  const pool = new Pool(product.api, { connections: READERS, pipelining: 1, headersTimeout: 600_000 });
  const headers = { authorization: `Bearer ${token}` };
  const get = async (path: string): Promise<unknown> => {
    const res = await pool.request({ method: 'GET', path, headers });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`GET ${path} -> ${res.statusCode} ${text.slice(0, 200)}`);
    return JSON.parse(text) as unknown;
  };
  const base = `/api/v1/accounts/${w.accountId}`;
  const states = Array.from({ length: READERS }, (_, i) => new ReaderState(w, 1000 + i));
  const versionKey = CacheKeys.accountVersion(w.accountId);
  // warm-up (connections, JIT), not counted
  await runReaders(READERS, 2, async () => {
    const t = performance.now();
    await get(`${base}/messages?${query({ filter: { folderId: w.inboxId } })}`);
    return { kind: 'first', ms: performance.now() - t };
  });
  const miss = (kind: Kind) => async (reader: number) => {
    const req = states[reader].next(kind);
    await redis.incr(versionKey); // a write batch committed: this request misses the cache
    const t = performance.now();
    const body = await get(
      !req
        ? `${base}/folders`
        : `${base}/${kind === 'conversations' ? 'conversations' : 'messages'}?${query(req)}`,
    );
    const ms = performance.now() - t;
    if (kind === 'deep') {
      const next = (body as { nextCursor: string | null }).nextCursor;
      states[reader].cursor = next ? (decodeMessageCursor(next) ?? undefined) : undefined;
    }
    return ms;
  };
  const kinds = await measureKinds(miss, (_, p50) => p50 > SATURATING_MS);
  const cachedPath = `${base}/messages?${query({ filter: { folderId: w.inboxId } })}`;
  await get(cachedPath);
  const cached = await runReaders(READERS, CACHED_SECONDS, async () => {
    const t = performance.now();
    await get(cachedPath);
    return { kind: 'cached', ms: performance.now() - t };
  });
  await pool.close();
  return { kinds, cached };
}

/** the DataSource surface MailReadRepository uses, over one bare pg client; records statements when asked */
function bareSource(client: Client, record?: Array<{ sql: string; params: unknown[] }>): DataSource {
  return {
    query: async (sql: string, params: unknown[]): Promise<unknown[]> => {
      record?.push({ sql, params });
      return (await client.query<Record<string, unknown>>(sql, params)).rows;
    },
  } as unknown as DataSource;
}

async function runKind(
  repo: MailReadRepository,
  scope: { userId: string; accountId: string },
  kind: Kind,
  state: ReaderState,
) {
  const req = state.next(kind);
  if (!req) {
    const r = await repo.listFolders(scope);
    if (!r.ok) throw new Error(r.error);
    return;
  }
  if (kind === 'conversations') {
    const c = await repo.findConversationPage(scope, { folderId: req.filter.folderId ?? '', limit: PAGE });
    if (!c.ok) throw new Error(c.error);
    return;
  }
  const r = await repo.findMessagePage(scope, { filter: req.filter, limit: PAGE, after: req.cursor });
  if (!r.ok) throw new Error(r.error);
  if (kind === 'deep')
    state.cursor = r.value.nextCursor ? (decodeMessageCursor(r.value.nextCursor) ?? undefined) : undefined;
}

/** the baseline: MailReadRepository over READERS bare pg clients, the same kinds, parameters and skips */
async function baselinePhase(
  databaseUrl: string,
  userId: string,
  w: Workload,
  skipped: Kind[],
): Promise<KindRun> {
  const clients = await Promise.all(
    Array.from({ length: READERS }, async () => {
      const c = new Client({ connectionString: databaseUrl });
      await c.connect();
      return c;
    }),
  );
  try {
    const repos = clients.map((c) => new MailReadRepository(bareSource(c)));
    const states = Array.from({ length: READERS }, (_, i) => new ReaderState(w, 1000 + i));
    const scope = { userId, accountId: w.accountId };
    const step = (kind: Kind) => async (reader: number) => {
      const t = performance.now();
      await runKind(repos[reader], scope, kind, states[reader]);
      return performance.now() - t;
    };
    await runReaders(READERS, 2, async (reader) => ({ kind: 'first', ms: await step('first')(reader) }));
    return await measureKinds(step, (kind) => skipped.includes(kind));
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  }
}

/** EXPLAIN (ANALYZE, BUFFERS) of each statement one request of each kind runs */
async function explainKinds(db: Client, userId: string, w: Workload): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  const state = new ReaderState(w, 5);
  for (const kind of KINDS) {
    const record: Array<{ sql: string; params: unknown[] }> = [];
    const repo = new MailReadRepository(bareSource(db, record));
    await runKind(repo, { userId, accountId: w.accountId }, kind, state);
    const last = record[record.length - 1];
    const plan = await db.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (ANALYZE, BUFFERS) ${last.sql}`,
      last.params,
    );
    out[kind] = plan.rows.map((r) => r['QUERY PLAN']);
    process.stdout.write(`\n--- ${kind}: ${JSON.stringify(last.params.slice(2))}\n${out[kind].join('\n')}\n`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------

interface SizeResult {
  messages: number;
  fillSeconds: Filled['fillSeconds'];
  vectorsChecked: number;
  sizesBytes: Record<string, number>;
  api: {
    /** READERS readers on one kind at a time (cache misses), and the cached page */
    p: Partial<Record<AllKinds, KindStats>>;
    /** one reader alone */
    solo: Partial<Record<AllKinds, KindStats>>;
    skippedAtLoad: Kind[];
    requestsPerSecondAtLoad: number;
    cachedRequestsPerSecond: number;
  };
  baseline: {
    p: Partial<Record<AllKinds, KindStats>>;
    solo: Partial<Record<AllKinds, KindStats>>;
    requestsPerSecondAtLoad: number;
  };
  producerCpuSeconds: number;
  /**
   * Little's law on this machine: READERS closed-loop readers whose p95 is under the aim have a mean under it too,
   * so they are served at more than READERS / aim requests a second (`aimNeedsPerSecond`). `dbPerSecond` is what
   * the same SQL over READERS bare clients reached (the baseline; for the cached page, the API itself): where it is
   * below what the aim needs, no API in front of that database on these cores can meet the aim at READERS readers.
   */
  capacity: Partial<Record<AllKinds, { dbPerSecond: number; aimNeedsPerSecond: number }>>;
  /**
   * where the API's queries and the baseline's ran: the stack's streaming replica (the product's read side, issue
   * 21) or the primary (BENCH_READ_REPLICA=0, or a stack without one); with the reads each side served during the
   * API phases (the producer's /health) and how long the replica took to replay the fill
   */
  readSide: { side: 'replica' | 'primary'; served: ReadsServed | null; replayWaitSeconds: number };
  ratio: number;
}

interface ReadsServed {
  replica: number;
  primary: number;
  fallbacks: number;
}

/** the producer's read-side counters, from /health (details.replica.reads) */
async function readsServed(product: RunningProduct): Promise<ReadsServed | null> {
  const res = await fetch(`${product.api}/health`);
  const body = (await res.json()) as { details?: { replica?: { reads?: ReadsServed } } };
  return body.details?.replica?.reads ?? null;
}

/** waits until the replica has replayed everything the primary had written when called (the fill) */
async function replicaCaughtUp(db: Client, replicaUrl: string): Promise<number> {
  const started = performance.now();
  const target = (await db.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0].lsn;
  const replica = new Client({ connectionString: replicaUrl });
  await replica.connect();
  try {
    for (;;) {
      const { rows } = await replica.query<{ caught: boolean }>(
        'SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS caught',
        [target],
      );
      if (rows[0].caught) return Number(((performance.now() - started) / 1000).toFixed(1));
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await replica.end();
  }
}

async function measureSize(
  product: RunningProduct,
  db: Client,
  redis: Cluster,
  box: Mailbox,
  count: number,
  explain: boolean,
): Promise<SizeResult | null> {
  const { token, email } = await signUp(product.api);
  const userId = (await db.query<{ id: string }>('SELECT id FROM users WHERE email = $1', [email])).rows[0]
    .id;
  process.stderr.write(`[bench:read] filling ${count} messages…\n`);
  const filled = await fillMailbox(db, box, userId, count);
  process.stderr.write(
    `[bench:read] filled in ${filled.fillSeconds.total} s ${JSON.stringify(filled.fillSeconds)}\n`,
  );
  const sizes = await relationSizes(db);
  const w = await workload(db, box, filled.accountId);
  if (explain) await explainKinds(db, userId, w);
  if (process.argv.includes('--explain-only')) return null;
  const replicaUrl = product.databaseReadUrl;
  const replayWaitSeconds = replicaUrl ? await replicaCaughtUp(db, replicaUrl) : 0;
  if (replicaUrl)
    process.stderr.write(`[bench:read] the replica replayed the fill ${replayWaitSeconds} s after it\n`);
  const served0 = await readsServed(product);
  const cpu0 = cpuSeconds(product.producer.child.pid);
  const { kinds, cached } = await apiPhase(product, redis, token, w);
  const producerCpu = cpuSeconds(product.producer.child.pid) - cpu0;
  const served1 = await readsServed(product);
  const served =
    served0 && served1
      ? {
          replica: served1.replica - served0.replica,
          primary: served1.primary - served0.primary,
          fallbacks: served1.fallbacks - served0.fallbacks,
        }
      : null;
  // the baseline reads where the API's queries read: the replica when the product has one
  const base = await baselinePhase(replicaUrl ?? currentTestRun().databaseUrl, userId, w, kinds.skipped);
  if (kinds.errors > 0 || cached.errors > 0 || base.errors > 0) {
    throw new Error(
      `errors: api ${kinds.errors}, cached ${cached.errors}, baseline ${base.errors}: ${kinds.firstError ?? cached.firstError ?? base.firstError}`,
    );
  }
  const api = stats({ ...kinds.loaded, cached: cached.samples.cached });
  const baseline = stats(base.loaded);
  const ratio = Number(((baseline.first?.p95 ?? 0) / (api.first?.p95 ?? 1)).toFixed(3));
  const aimNeeds = (kind: AllKinds) => Math.ceil((READERS * 1000) / AIM[kind]);
  const capacity: SizeResult['capacity'] = {};
  for (const kind of KINDS) {
    const rate = base.loadedRates[kind];
    if (rate !== undefined)
      capacity[kind] = { dbPerSecond: Math.round(rate), aimNeedsPerSecond: aimNeeds(kind) };
  }
  capacity.cached = {
    dbPerSecond: Math.round(cached.requests / cached.seconds),
    aimNeedsPerSecond: aimNeeds('cached'),
  };
  return {
    messages: count,
    fillSeconds: filled.fillSeconds,
    vectorsChecked: filled.vectorsChecked,
    sizesBytes: sizes,
    api: {
      p: api,
      solo: stats(kinds.solo),
      skippedAtLoad: kinds.skipped,
      requestsPerSecondAtLoad: Math.round(kinds.loadedRequests / Math.max(kinds.loadedSeconds, 0.001)),
      cachedRequestsPerSecond: Math.round(cached.requests / cached.seconds),
    },
    baseline: {
      p: baseline,
      solo: stats(base.solo),
      requestsPerSecondAtLoad: Math.round(base.loadedRequests / Math.max(base.loadedSeconds, 0.001)),
    },
    producerCpuSeconds: Number(producerCpu.toFixed(1)),
    capacity,
    readSide: { side: replicaUrl ? 'replica' : 'primary', served, replayWaitSeconds },
    ratio,
  };
}

const mb = (b: number | undefined) => `${((b ?? 0) / 1048576).toFixed(0)} MB`;
const ms = (x: number | undefined) => (x === undefined ? '–' : x.toFixed(1));

function sizeRows(r: SizeResult): string[][] {
  const rows = [
    [
      'kind',
      'API 1 reader p50 / p95',
      `API ${READERS} readers p50 / p95 / p99`,
      'n',
      'DB 1 client p95',
      `DB ${READERS} clients p95`,
      'aim p95',
      `req/s at ${READERS}: DB (aim needs)`,
    ],
  ];
  for (const kind of [...KINDS, 'cached'] as AllKinds[]) {
    const a = r.api.p[kind];
    const solo = r.api.solo[kind];
    const skipped = (r.api.skippedAtLoad as AllKinds[]).includes(kind);
    const verdict = a ?? (skipped ? solo : undefined);
    rows.push([
      LABEL[kind],
      solo ? `${ms(solo.p50)} / ${ms(solo.p95)}` : '–',
      a ? `${ms(a.p50)} / ${ms(a.p95)} / ${ms(a.p99)}` : skipped ? 'not run (1 reader > 250 ms)' : '–',
      String(a?.n ?? solo?.n ?? 0),
      ms(r.baseline.solo[kind]?.p95),
      ms(r.baseline.p[kind]?.p95),
      `< ${AIM[kind]} ms${verdict && verdict.p95 < AIM[kind] ? ' ✓' : ' ✗'}`,
      r.capacity[kind]
        ? `${r.capacity[kind].dbPerSecond}${kind === 'cached' ? ' API' : ''} (> ${r.capacity[kind].aimNeedsPerSecond})`
        : '–',
    ]);
  }
  const pad = (label: string, value: string) => [label, value, '', '', '', '', '', ''];
  rows.push(
    pad(
      'requests/s at load (API misses | API cached | DB)',
      `${r.api.requestsPerSecondAtLoad} | ${r.api.cachedRequestsPerSecond} | ${r.baseline.requestsPerSecondAtLoad}`,
    ),
  );
  rows.push(
    pad(
      'fill: COPY, indexes + counts, vacuum',
      `${r.fillSeconds.total} s (${r.fillSeconds.copy}, ${r.fillSeconds.indexes}, ${r.fillSeconds.vacuum})`,
    ),
  );
  rows.push(
    pad(
      'messages table / its indexes / bodies',
      `${mb(r.sizesBytes['messages (table)'])} / ${mb(r.sizesBytes['messages (indexes)'])} / ${mb(r.sizesBytes['message_bodies (table + indexes)'])}`,
    ),
  );
  const served = r.readSide.served;
  rows.push(
    pad(
      'read side (API queries and DB baseline) | reads served replica / primary / fallbacks',
      `${r.readSide.side} | ${served ? `${served.replica} / ${served.primary} / ${served.fallbacks}` : '–'}`,
    ),
  );
  rows.push(pad(`ratio: DB p95 / API p95, Inbox first page, ${READERS} each`, String(r.ratio)));
  return rows;
}

async function commit(): Promise<string> {
  const { execFileSync } = await import('node:child_process');
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const growth = process.argv.includes('--growth');
  const explain = process.argv.includes('--explain') || process.argv.includes('--explain-only');
  await globalSetup();
  // the producer's queries read the stack's streaming replica, as `npm start` does (BENCH_READ_REPLICA=0: the primary)
  const replica = Boolean(currentTestRun().databaseReadUrl) && process.env.BENCH_READ_REPLICA !== '0';
  // both apps as deployed (their bundles, built first when older than a source)
  const product = await startProduct({
    replica,
    appEnv: { LOG_LEVEL: 'warn' },
    built: true,
  });
  const run = currentTestRun();
  const db = new Client({ connectionString: run.databaseUrl });
  const redis = createRedisCluster({ nodes: run.redisClusterNodes, keyPrefix: run.redisKeyPrefix });
  try {
    await db.connect();
    const box = designMailbox();
    const meta = {
      date: new Date().toISOString(),
      commit: await commit(),
      cores: os.cpus().length,
      load1AtStart: Number(os.loadavg()[0].toFixed(2)),
      readers: READERS,
      seconds: { loadedPerKind: SECONDS / KINDS.length, soloPerKind: SOLO_SECONDS, cached: CACHED_SECONDS },
      saturatingMs: SATURATING_MS,
      pageSize: PAGE,
      aimsMs: AIMS_MS,
    };
    if (growth) {
      const results: SizeResult[] = [];
      for (const count of GROWTH_SIZES) {
        const r = await measureSize(product, db, redis, box, count, explain);
        if (!r) continue;
        results.push(r);
        for (const row of sizeRows(r)) process.stdout.write(`${count}: ${row.join(' | ')}\n`);
      }
      const rows = [
        ['messages', ...KINDS.map((k) => `${k} p95`), 'cached p95', 'messages+indexes', 'fill s'],
      ];
      for (const r of results) {
        rows.push([
          String(r.messages),
          ...KINDS.map((k) => ms(r.api.p[k]?.p95)),
          ms(r.api.p.cached?.p95),
          mb((r.sizesBytes['messages (table)'] ?? 0) + (r.sizesBytes['messages (indexes)'] ?? 0)),
          String(r.fillSeconds.total),
        ]);
      }
      const last = results[results.length - 1];
      if (!last) return;
      const growthResults = {
        name: 'read-growth',
        ...meta,
        load1AtEnd: Number(os.loadavg()[0].toFixed(2)),
        sizes: results,
        ratio: last.ratio,
      };
      // the growth table, then the largest size as the run's own figures (bench/results/read.json, `ratio:`)
      for (const row of rows) process.stdout.write(`${row.join(' | ')}\n`);
      const out = path.join(__dirname, 'results', 'read-growth.json');
      fs.mkdirSync(path.dirname(out), { recursive: true });
      fs.writeFileSync(out, JSON.stringify(growthResults, null, 2) + '\n');
      process.stdout.write(`written: ${path.relative(process.cwd(), out)}\n`);
      const single = { name: 'read', ...meta, load1AtEnd: growthResults.load1AtEnd, ...last };
      report('read', sizeRows(last), single);
    } else {
      const r = await measureSize(product, db, redis, box, MESSAGES, explain);
      if (!r) return;
      const results = { name: 'read', ...meta, load1AtEnd: Number(os.loadavg()[0].toFixed(2)), ...r };
      report('read', sizeRows(r), results);
    }
  } finally {
    redis.disconnect();
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
