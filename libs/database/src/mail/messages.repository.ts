import type { DataSource, EntityManager } from 'typeorm';
import { prepared, useGenericPlans } from '../prepared';
import type { FolderCountDelta } from './mail-folders.repository';
import {
  dedupeById,
  messageColumnParams,
  toMessageColumns,
  type DeltaPageInput,
  type MessageInput,
} from './mail-rows';

/** HTML read for the search vector (its tags and entities are not words, see below); the stored body is complete. */
export const SEARCH_BODY_HTML_CHARS = 262144;
/** Body text indexed for full-text search (a tsvector must stay under 1 MB; 64 KB of text is far below). */
export const SEARCH_BODY_TEXT_CHARS = 65536;

/**
 * The account in a statement that probes `messages` by primary key (account, id): an init-plan parameter rather than
 * `$1` itself, so the planner costs the probe without the account's value. With the value, while a first sync fills a
 * new account in a table whose statistics predate it (autovacuum's ANALYZE comes later), the planner estimates the
 * account at about one row, sees every index that starts with the account and holds the id further on (the
 * conversation and folder indexes) as cheap as the primary key, and picked one: each probe then walked all of the
 * account's rows in that index. EXPLAIN (ANALYZE, BUFFERS) of LOCK_CHANGING_SQL for 500 ids, 30,000 of the account's
 * rows written after the last ANALYZE: 642,000 buffers and 726 ms through `messages_conversation_idx`, against 3,003
 * buffers and 8 ms through `messages_pkey` with this (docs/performance.md, session 27). Without the value, the
 * account counts as an average one (1/n_distinct of the table), and only the primary key finds one row. The same
 * holds for the header-threaded rows' lookups by Message-ID and by subject (THREAD_ID_SQL, KNOWN_ELSEWHERE_SQL): with
 * the account's value they could be planned through the conversation or date index, walking the account's rows for
 * each lookup, instead of their partial indexes (seen in a clean-clone CI run, session 27).
 */
const ACCOUNT_PROBE = '(SELECT $1::uuid)';

/**
 * The body for the search vector. Postgres' own text-search parser knows markup: tags (with their attributes),
 * `<style>`/`<script>` contents and entities are tokens that the 'simple' configuration indexes as nothing, so an
 * HTML body goes to `to_tsvector` as it is (regex stripping first gave the very same vectors and took a third of
 * the vector's cost, see docs/performance.md).
 */
const searchBodyText = (type: string, content: string) =>
  `left(${content}, CASE WHEN ${type} = 'html' THEN ${SEARCH_BODY_HTML_CHARS} ELSE ${SEARCH_BODY_TEXT_CHARS} END)`;

/** subject (A), sender name and address, including the address' parts (B), body text (D) */
export const SEARCH_VECTOR_SQL = (row: string) => `
  setweight(to_tsvector('simple', ${row}.subject), 'A') ||
  setweight(to_tsvector('simple', ${row}.from_name || ' ' || ${row}.from_address || ' ' || translate(${row}.from_address, '@.', '  ')), 'B') ||
  setweight(to_tsvector('simple', ${searchBodyText(`${row}.body_type`, `${row}.body_content`)}), 'D')`;

/**
 * The thread of each changed row of a page (the `threaded` step of UPSERT_PAGE_SQL; threading.ts has the whole
 * design). A provider's own conversation id stands (thread_subject NULL). A header-threaded row keeps the thread it
 * has; a new one takes, in order: the thread of the first of its references (root first) already in the account's
 * mirror; with no references but a reply/forward prefix, the newest thread of the same normalised subject within
 * 90 days before it; else the guess from its own headers. Each lookup is one probe of a partial index that holds
 * header-threaded rows only (Graph's rows cost them nothing), and it runs only for the rows that need it.
 */
const THREAD_ID_SQL = `
  SELECT c.*, CASE WHEN c.thread_subject IS NULL THEN c.conversation_id ELSE coalesce(
    c.previous_conversation_id,
    (SELECT p.conversation_id
     FROM unnest(string_to_array(nullif(c.thread_refs, ''), ' ')) WITH ORDINALITY AS r(message_id, n)
     CROSS JOIN LATERAL (
       SELECT e.conversation_id FROM messages e
       WHERE e.account_id = ${ACCOUNT_PROBE} AND e.internet_message_id = r.message_id AND e.thread_subject IS NOT NULL
       LIMIT 1
     ) p
     ORDER BY r.n LIMIT 1),
    (SELECT e.conversation_id FROM messages e
     WHERE c.subject_fallback AND e.account_id = ${ACCOUNT_PROBE} AND e.thread_subject = c.thread_subject
       AND e.received_at <= c.received_at AND e.received_at > c.received_at - interval '90 days'
     ORDER BY e.received_at DESC LIMIT 1),
    c.conversation_id) END AS thread_id
  FROM changed c`;

/** how long a removed message is remembered (`message_removals`) to tell a move from an arrival */
export const REMOVAL_MEMORY = '1 day';

/** the account's Sent folder (its id), for the user's own copies below */
const SENT_FOLDER_SQL = `SELECT s.remote_id FROM mail_folders s WHERE s.account_id = $1 AND s.well_known_name = 'sentitems'`;

/**
 * Whether a page row the mirror does not hold (`row`, a row of UPSERT_PAGE_SQL's input) is a message the account
 * already had, so inserting it is the second half of a move, not an arrival (`created`): a row of the same id
 * removed lately (a move seen from its source folder first: any provider), or, by its Message-ID header, a copy
 * removed lately or one still in the mirror (an IMAP move gives the message a new UID, a new id: seen from either
 * folder first). A message without a Message-ID is an arrival unless its own id was removed. The user's own copies
 * (a draft, or one in Sent) are not earlier copies of a message that is neither: a mail sent to oneself arrives in
 * the Inbox as new mail while its Sent copy exists. One probe of `message_removals` per index, and one of the
 * header-threaded rows' Message-ID index (rows a provider threads, Graph's, keep their id through a move: immutable
 * ids), each for inserted rows only.
 */
const KNOWN_ELSEWHERE_SQL = (row: string) => `(
    EXISTS (SELECT 1 FROM message_removals r
            WHERE r.account_id = $1 AND r.remote_id = ${row}.remote_id
              AND r.removed_at > now() - interval '${REMOVAL_MEMORY}')
    OR (${row}.internet_message_id IS NOT NULL AND (
      EXISTS (SELECT 1 FROM message_removals r
              WHERE r.account_id = $1 AND r.internet_message_id = ${row}.internet_message_id
                AND r.removed_at > now() - interval '${REMOVAL_MEMORY}'
                AND (NOT r.outgoing OR ${row}.is_draft OR $2 IN (${SENT_FOLDER_SQL})))
      OR (${row}.thread_subject IS NOT NULL AND EXISTS (
        SELECT 1 FROM messages e
        WHERE e.account_id = ${ACCOUNT_PROBE} AND e.internet_message_id = ${row}.internet_message_id
          AND e.thread_subject IS NOT NULL AND e.remote_id <> ${row}.remote_id
          AND (NOT (e.is_draft OR e.folder_remote_id IN (${SENT_FOLDER_SQL}))
               OR ${row}.is_draft OR $2 IN (${SENT_FOLDER_SQL}))))
    )))`;

/**
 * One statement per page: decode the column arrays, keep the rows that are new or changed (change key or folder),
 * upsert them with their search vector, and upsert the bodies of exactly the rows written. Re-applying a page is
 * a no-op: nothing is rewritten, `updated_at` does not move. It answers the ids it wrote, the folders that lost
 * a message to this one (a move seen from its destination first), and what the rows written change in the folder
 * counts: each row's folder and read flag before (as locked by LOCK_CHANGING_SQL just before) and after.
 * `counts_unknown`: a row written here was inserted by another transaction after this statement's snapshot (its
 * folder before is unknown to it), so the counts need a recount instead.
 */
export const UPSERT_PAGE_SQL = `
WITH input AS (
  SELECT * FROM unnest(
    $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::jsonb[], $9::jsonb[], $10::text[],
    $11::timestamptz[], $12::timestamptz[], $13::boolean[], $14::text[], $15::text[], $16::boolean[],
    $17::text[], $18::text[], $19::text[], $20::text[], $21::text[], $22::text[], $23::boolean[],
    $24::boolean[]
  ) AS t(remote_id, change_key, subject, from_name, from_address, to_recipients, cc_recipients, body_preview,
         received_at, sent_at, is_read, flag_status, importance, has_attachments, conversation_id,
         internet_message_id, body_type, body_content, thread_refs, thread_subject, subject_fallback, is_draft)
), changed AS (
  -- one primary-key probe per page row (LIMIT keeps the subquery a parameterised index scan): a plain join could
  -- be planned as a hash of the account's whole mirror per page (stale statistics in a first sync), O(mailbox)
  SELECT i.*, m.folder_remote_id AS previous_folder_remote_id, m.is_read AS previous_is_read,
    m.conversation_id AS previous_conversation_id,
    CASE WHEN m.remote_id IS NULL THEN ${KNOWN_ELSEWHERE_SQL('i')} ELSE false END AS known_elsewhere
  FROM input i
  LEFT JOIN LATERAL (
    SELECT e.remote_id, e.change_key, e.folder_remote_id, e.is_read, e.conversation_id FROM messages e
    WHERE e.account_id = ${ACCOUNT_PROBE} AND e.remote_id = i.remote_id
    LIMIT 1
  ) m ON true
  WHERE m.remote_id IS NULL OR m.change_key IS DISTINCT FROM i.change_key OR m.folder_remote_id IS DISTINCT FROM $2
), threaded AS (
  ${THREAD_ID_SQL}
), upserted AS (
  INSERT INTO messages (
    account_id, remote_id, folder_remote_id, change_key, subject, from_name, from_address, to_recipients,
    cc_recipients, body_preview, received_at, sent_at, is_read, flag_status, importance, has_attachments,
    conversation_id, internet_message_id, thread_subject, is_draft, search, updated_at)
  SELECT $1, c.remote_id, $2, c.change_key, c.subject, c.from_name, c.from_address, c.to_recipients,
    c.cc_recipients, c.body_preview, c.received_at, c.sent_at, c.is_read, c.flag_status, c.importance,
    c.has_attachments, c.thread_id, c.internet_message_id, c.thread_subject, c.is_draft, ${SEARCH_VECTOR_SQL('c')},
    now()
  FROM threaded c
  ON CONFLICT (account_id, remote_id) DO UPDATE SET
    folder_remote_id = EXCLUDED.folder_remote_id,
    change_key = EXCLUDED.change_key,
    subject = EXCLUDED.subject,
    from_name = EXCLUDED.from_name,
    from_address = EXCLUDED.from_address,
    to_recipients = EXCLUDED.to_recipients,
    cc_recipients = EXCLUDED.cc_recipients,
    body_preview = EXCLUDED.body_preview,
    received_at = EXCLUDED.received_at,
    sent_at = EXCLUDED.sent_at,
    is_read = EXCLUDED.is_read,
    flag_status = EXCLUDED.flag_status,
    importance = EXCLUDED.importance,
    has_attachments = EXCLUDED.has_attachments,
    conversation_id = EXCLUDED.conversation_id,
    internet_message_id = EXCLUDED.internet_message_id,
    thread_subject = EXCLUDED.thread_subject,
    is_draft = EXCLUDED.is_draft,
    search = EXCLUDED.search,
    updated_at = now()
  WHERE messages.change_key IS DISTINCT FROM EXCLUDED.change_key
     OR messages.folder_remote_id IS DISTINCT FROM EXCLUDED.folder_remote_id
  RETURNING remote_id, is_read, xmax::text <> '0' AS replaced
), bodies AS (
  INSERT INTO message_bodies (account_id, remote_id, content_type, content)
  SELECT $1, c.remote_id, c.body_type, c.body_content
  FROM changed c JOIN upserted u ON u.remote_id = c.remote_id
  ON CONFLICT (account_id, remote_id) DO UPDATE SET
    content_type = EXCLUDED.content_type,
    content = EXCLUDED.content
  RETURNING remote_id
)
SELECT (SELECT count(*) FROM upserted)::int AS upserted, (SELECT count(*) FROM bodies)::int AS bodies,
  (SELECT coalesce(array_agg(remote_id), '{}') FROM upserted) AS upserted_ids,
  (SELECT coalesce(array_agg(u.remote_id), '{}') FROM upserted u JOIN changed c ON c.remote_id = u.remote_id
     WHERE NOT u.replaced AND NOT c.known_elsewhere) AS created_ids,
  (SELECT coalesce(array_agg(DISTINCT c.previous_folder_remote_id), '{}')
     FROM changed c JOIN upserted u ON u.remote_id = c.remote_id
     WHERE c.previous_folder_remote_id IS DISTINCT FROM $2 AND c.previous_folder_remote_id IS NOT NULL) AS moved_from,
  (SELECT coalesce(json_agg(d), '[]') FROM (
     SELECT folder_id AS "folderId", sum(total)::int AS total, sum(unread)::int AS unread FROM (
       SELECT $2::text AS folder_id, 1 AS total, (NOT u.is_read)::int AS unread FROM upserted u
       UNION ALL
       SELECT c.previous_folder_remote_id, -1, -((NOT c.previous_is_read)::int)
       FROM changed c JOIN upserted u ON u.remote_id = c.remote_id
       WHERE c.previous_folder_remote_id IS NOT NULL
     ) x GROUP BY folder_id HAVING sum(total) <> 0 OR sum(unread) <> 0) d) AS counts,
  EXISTS (SELECT 1 FROM changed c JOIN upserted u ON u.remote_id = c.remote_id
          WHERE u.replaced AND c.previous_folder_remote_id IS NULL) AS counts_unknown,
  (SELECT coalesce(json_agg(json_build_array(t.internet_message_id, t.thread_id)), '[]')
     FROM threaded t JOIN upserted u ON u.remote_id = t.remote_id
     WHERE t.thread_subject IS NOT NULL AND t.internet_message_id IS NOT NULL
       AND t.thread_id <> t.internet_message_id) AS rethread`;

/**
 * After a page: messages that took a message's own Message-ID as their thread (they guessed it the root, or only
 * knew it as their parent) while that message turned out to belong to another thread follow it there. This is a
 * reply that arrived before its parent, in an earlier page or this one. Rows locked in id order first, so two
 * writers of one account never wait on each other in a cycle.
 */
export const MERGE_THREADS_SQL = `
WITH pairs AS (
  SELECT DISTINCT ON (t.message_id) t.message_id, t.thread_id
  FROM unnest($2::text[], $3::text[]) AS t(message_id, thread_id)
  ORDER BY t.message_id
), target AS (
  SELECT m.remote_id, p.thread_id FROM pairs p
  JOIN messages m ON m.account_id = $1 AND m.conversation_id = p.message_id AND m.thread_subject IS NOT NULL
  ORDER BY m.remote_id
  FOR UPDATE OF m
)
UPDATE messages m SET conversation_id = t.thread_id
FROM target t
WHERE m.account_id = ${ACCOUNT_PROBE} AND m.remote_id = t.remote_id
RETURNING m.remote_id`;

/**
 * Before the upsert, in its own statement: the page's rows that it will change (change key or folder differ), locked
 * in id order as they are now, one primary-key probe per id (a lateral subquery: a join let the planner hash the
 * account's every row, which it believes few while a first sync grows them, and made each page O(account)). The
 * upsert's snapshot, taken after, then sees exactly what it replaces, even when a writer of another folder moved or
 * removed one of them a moment before (a move seen from both of its folders).
 */
export const LOCK_CHANGING_SQL = `
SELECT l.remote_id
FROM (SELECT * FROM unnest($2::text[], $3::text[]) AS t(remote_id, change_key) ORDER BY remote_id) i
CROSS JOIN LATERAL (
  SELECT m.remote_id FROM messages m
  WHERE m.account_id = ${ACCOUNT_PROBE} AND m.remote_id = i.remote_id
    AND (m.change_key IS DISTINCT FROM i.change_key OR m.folder_remote_id IS DISTINCT FROM $4)
  FOR UPDATE
) l`;

/**
 * Only the folder that reported the removal loses the message: a message moved elsewhere shows as `@removed`
 * in its old folder and must survive that. Bodies go with their message (foreign key, on delete cascade). Each
 * removed row is remembered for a day (`message_removals`, see KNOWN_ELSEWHERE_SQL), and the account's older
 * memories are forgotten in the same statement, so the table holds about a day of removals.
 */
export const REMOVE_SQL = `
WITH removed AS (
  DELETE FROM messages
  WHERE account_id = ${ACCOUNT_PROBE} AND remote_id = ANY($2::text[]) AND folder_remote_id = $3
  RETURNING remote_id, is_read, internet_message_id, is_draft
), forgotten AS (
  DELETE FROM message_removals
  WHERE account_id = $1 AND removed_at <= now() - interval '${REMOVAL_MEMORY}' AND NOT (remote_id = ANY($2::text[]))
), remembered AS (
  INSERT INTO message_removals (account_id, remote_id, internet_message_id, outgoing, removed_at)
  SELECT $1, r.remote_id, r.internet_message_id, r.is_draft OR $3 IN (${SENT_FOLDER_SQL}), now() FROM removed r
  ON CONFLICT (account_id, remote_id) DO UPDATE SET
    internet_message_id = EXCLUDED.internet_message_id, outgoing = EXCLUDED.outgoing, removed_at = EXCLUDED.removed_at
)
SELECT count(*)::int AS removed, coalesce(array_agg(remote_id), '{}') AS removed_ids,
  (count(*) FILTER (WHERE NOT is_read))::int AS removed_unread FROM removed`;

/**
 * A removal that is half of a move, its new folder known: the message moves there now (its data is refreshed
 * when that folder's delta runs), so it is never missing from the mirror between the two folders' deltas. Only a
 * message still in the reporting folder moves, and only into a folder the mirror keeps.
 */
export const RELOCATE_SQL = `
WITH moved AS (
  UPDATE messages m SET folder_remote_id = t.folder_remote_id, updated_at = now()
  FROM unnest($3::text[], $4::text[]) AS t(remote_id, folder_remote_id)
  JOIN mail_folders f ON f.account_id = $1 AND f.remote_id = t.folder_remote_id
  WHERE m.account_id = ${ACCOUNT_PROBE} AND m.remote_id = t.remote_id AND m.folder_remote_id = $2
    AND t.folder_remote_id <> $2
  RETURNING m.remote_id, t.folder_remote_id, m.is_read
)
SELECT remote_id, folder_remote_id, is_read FROM moved`;

/** where the mirror holds each of some messages (`foldersOf`) */
const FOLDERS_OF_SQL = prepared(`SELECT remote_id, folder_remote_id FROM messages
       WHERE account_id = ${ACCOUNT_PROBE} AND remote_id = ANY($2::text[])`);

/**
 * The page statements as a live round runs them: the same statements, prepared (`prepared`: parsed once per
 * connection) and run with their generic plans (`useGenericPlans`), so a round's page of a few rows is not parsed
 * and planned at every change. A first sync's pages (hundreds of rows) send the plain texts above, planned for their
 * rows each time: prepared, those took 1.6x as long (bench:prepared-pages, docs/performance.md session 28).
 */
const LIVE = {
  upsert: prepared(`${UPSERT_PAGE_SQL}\n-- live page`),
  mergeThreads: prepared(`${MERGE_THREADS_SQL}\n-- live page`),
  lockChanging: prepared(`${LOCK_CHANGING_SQL}\n-- live page`),
  remove: prepared(`${REMOVE_SQL}\n-- live page`),
  relocate: prepared(`${RELOCATE_SQL}\n-- live page`),
};
const SYNC = {
  upsert: UPSERT_PAGE_SQL,
  mergeThreads: MERGE_THREADS_SQL,
  lockChanging: LOCK_CHANGING_SQL,
  remove: REMOVE_SQL,
  relocate: RELOCATE_SQL,
};

export interface AppliedPage {
  /** messages inserted or changed (a re-applied page writes none) */
  upserted: number;
  removed: number;
  /** the ids of exactly the messages inserted or changed */
  upsertedIds: string[];
  /**
   * those of `upsertedIds` that arrived: inserted (the row did not exist, `xmax = 0`) and not a message the account
   * already had under another id or removed a moment ago (a move, see KNOWN_ELSEWHERE_SQL)
   */
  createdIds: string[];
  /** the ids of exactly the messages removed from this folder */
  removedIds: string[];
  /** other folders that lost a message to this one (it moved here): their counts changed too */
  movedFrom: string[];
  /** removed messages moved straight to their known new folder instead (see RELOCATE_SQL) */
  relocated: Array<{ id: string; folderId: string }>;
  /**
   * What the page changed in folder counts, exact (from the rows' own folder and read flag before and after),
   * for `MailFoldersRepository.settleCounts` in the same transaction. Folders whose counts did not move are absent.
   */
  counts: FolderCountDelta[];
  /** a count change the page could not know (see UPSERT_PAGE_SQL's `counts_unknown`): recount the account's folders */
  countsUnknown: boolean;
}

/** Intent-level writes of the message mirror. */
export class MessagesRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Applies one delta page of `folderId` inside the caller's transaction (which also stores the folder's link,
   * so a crash resumes exactly after the last committed page): removals first (those in `relocate`, removed
   * messages whose new folder is known, move there instead), then one bulk upsert.
   */
  async applyPage(
    manager: EntityManager,
    accountId: string,
    folderId: string,
    page: DeltaPageInput,
    relocate: ReadonlyMap<string, string> = new Map(),
    opts: {
      /** how long this transaction's statements may wait for a row lock from now on (e.g. '20s') */
      lockTimeout?: string;
      /**
       * a live round's page (a few rows): the page statements prepared, with their generic plans for the rest of
       * the transaction (`LIVE`); otherwise sent as text, planned for their rows
       */
      live?: boolean;
    } = {},
  ): Promise<AppliedPage> {
    if (opts.lockTimeout !== undefined) {
      if (!/^\d+(ms|s)$/.test(opts.lockTimeout)) throw new Error(`bad lock timeout ${opts.lockTimeout}`);
      await manager.query(`SET LOCAL lock_timeout = '${opts.lockTimeout}'`);
    }
    const sql = opts.live ? LIVE : SYNC;
    if (opts.live) await useGenericPlans(manager);
    const messages: MessageInput[] = dedupeById(page.messages);
    const kept = new Set(messages.map((m) => m.id));
    // An id both removed and present in one page: the message's data is the later word.
    const removedIds = [...new Set(page.removedIds)].filter((id) => !kept.has(id));
    const result: AppliedPage = {
      upserted: 0,
      removed: 0,
      upsertedIds: [],
      createdIds: [],
      removedIds: [],
      movedFrom: [],
      relocated: [],
      counts: [],
      countsUnknown: false,
    };
    const counts = new FolderCounts();
    const moving = removedIds.filter((id) => relocate.has(id));
    if (moving.length > 0) {
      const rows: Array<{ remote_id: string; folder_remote_id: string; is_read: boolean }> =
        await manager.query(sql.relocate, [
          accountId,
          folderId,
          moving,
          moving.map((id) => relocate.get(id)),
        ]);
      result.relocated = rows.map((r) => ({ id: r.remote_id, folderId: r.folder_remote_id }));
      for (const r of rows) {
        counts.add(folderId, -1, r.is_read ? 0 : -1);
        counts.add(r.folder_remote_id, 1, r.is_read ? 0 : 1);
      }
    }
    if (removedIds.length > 0) {
      const rows: Array<{ removed: number; removed_ids?: string[]; removed_unread?: number }> =
        await manager.query(sql.remove, [accountId, removedIds, folderId]);
      result.removed = rows[0]?.removed ?? 0;
      result.removedIds = rows[0]?.removed_ids ?? [];
      counts.add(folderId, -result.removed, -(rows[0]?.removed_unread ?? 0));
    }
    if (messages.length > 0) {
      const columns = toMessageColumns(messages);
      await manager.query(sql.lockChanging, [accountId, columns.graphId, columns.changeKey, folderId]);
      const rows: Array<{
        upserted: number;
        upserted_ids?: string[];
        created_ids?: string[];
        moved_from?: string[];
        counts?: FolderCountDelta[];
        counts_unknown?: boolean;
        rethread?: Array<[string, string]>;
      }> = await manager.query(sql.upsert, [accountId, folderId, ...messageColumnParams(columns)]);
      const rethread = resolveThreadChains(rows[0]?.rethread ?? []);
      if (rethread.size > 0) {
        await manager.query(sql.mergeThreads, [accountId, [...rethread.keys()], [...rethread.values()]]);
      }
      result.upserted = rows[0]?.upserted ?? 0;
      result.upsertedIds = rows[0]?.upserted_ids ?? [];
      result.createdIds = rows[0]?.created_ids ?? [];
      result.movedFrom = rows[0]?.moved_from ?? [];
      for (const d of rows[0]?.counts ?? []) counts.add(d.folderId, d.total, d.unread);
      result.countsUnknown = rows[0]?.counts_unknown ?? false;
    }
    result.counts = counts.changes();
    return result;
  }

  /**
   * The mirror's folder of each of `ids` that it holds (ids it does not hold are absent from the map).
   * Ids are immutable ids, so a message keeps its id when it moves.
   */
  async foldersOf(accountId: string, ids: string[]): Promise<Map<string, string>> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return new Map();
    const rows: Array<{ remote_id: string; folder_remote_id: string }> = await this.dataSource.query(
      FOLDERS_OF_SQL,
      [accountId, unique],
    );
    return new Map(rows.map((r) => [r.remote_id, r.folder_remote_id]));
  }

  /** Messages of an account (or one folder) in the mirror. */
  async count(accountId: string, folderId?: string): Promise<number> {
    const rows: Array<{ n: number }> = await this.dataSource.query(
      folderId === undefined
        ? `SELECT count(*)::int AS n FROM messages WHERE account_id = $1`
        : `SELECT count(*)::int AS n FROM messages WHERE account_id = $1 AND folder_remote_id = $2`,
      folderId === undefined ? [accountId] : [accountId, folderId],
    );
    return rows[0]?.n ?? 0;
  }
}

/**
 * Message-ID → thread pairs of one page with chains followed to their end (C's thread was B's id while B's is A:
 * C goes to A), so one MERGE_THREADS_SQL settles them. A cycle (impossible from real headers) stops where it loops.
 */
export function resolveThreadChains(pairs: Array<[string, string]>): Map<string, string> {
  const next = new Map(pairs);
  const out = new Map<string, string>();
  for (const [messageId, threadId] of next) {
    let thread = threadId;
    const seen = new Set([messageId]);
    while (next.has(thread) && !seen.has(thread)) {
      seen.add(thread);
      thread = next.get(thread) ?? thread;
    }
    if (thread !== messageId) out.set(messageId, thread);
  }
  return out;
}

/** Count changes summed per folder. */
class FolderCounts {
  private readonly byFolder = new Map<string, { total: number; unread: number }>();

  add(folderId: string, total: number, unread: number): void {
    const c = this.byFolder.get(folderId) ?? { total: 0, unread: 0 };
    c.total += total;
    c.unread += unread;
    this.byFolder.set(folderId, c);
  }

  changes(): FolderCountDelta[] {
    return [...this.byFolder]
      .filter(([, c]) => c.total !== 0 || c.unread !== 0)
      .map(([folderId, c]) => ({ folderId, ...c }));
  }
}
