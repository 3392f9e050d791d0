import type { MailReadScope, MessageCursorKey, MessageListFilter } from './mail-read.types';

export interface SqlQuery {
  sql: string;
  params: unknown[];
}

export interface MessagePageRequest {
  filter: MessageListFilter;
  /** rows to return; the builder asks for one more to learn whether a next page exists */
  limit: number;
  after?: MessageCursorKey;
}

/** the list columns, plus the keyset position rendered with microseconds for the cursor */
export const MESSAGE_SUMMARY_COLUMNS = `
  m.remote_id, m.folder_remote_id, m.subject, m.from_name, m.from_address, m.to_recipients, m.cc_recipients,
  m.body_preview, m.received_at, m.sent_at, m.is_read, m.flag_status, m.importance, m.has_attachments,
  m.conversation_id,
  to_char(m.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS received_key`;

/** `%`, `_` and `\` match literally inside an ILIKE pattern (backslash is Postgres's default escape) */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** a whole address: the search vector holds it as one word (besides its parts) */
const FULL_ADDRESS = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;

/**
 * The sender filter's text split as the search vector splits the sender (SEARCH_VECTOR_SQL): a whole address stays
 * one word (the vector holds it, and one word is one posting list), any other word is split at `@` and `.` (the
 * vector holds the address's parts too: `contoso.example` finds the words `contoso` and `example`).
 */
export function senderFilterText(text: string): string {
  return text
    .split(/\s+/)
    .map((w) => (FULL_ADDRESS.test(w) ? w : w.replace(/[@.]/g, ' ')))
    .join(' ');
}

/**
 * The sender filter's words as a text-search query on the sender's part of the search vector: the words of
 * `senderFilterText` (by the 'simple' parser, as the vector was made), each a prefix (`:*`) restricted to weight B
 * (the sender's name and address), all of them required. Immutable functions of a bound value, so the planner sees
 * the query itself (and its selectivity).
 */
const senderWordsQuery = (text: string) =>
  `regexp_replace(plainto_tsquery('simple', ${text})::text, '''( |$)', ''':*B\\1', 'g')::tsquery`;

/**
 * One page of an account's messages, newest first on (received_at, remote_id), with every filter as a bound
 * parameter: user input never reaches the SQL text. Ownership is part of the query itself (the join on
 * mail_accounts.user_id), so even a caller that skipped the account check could not read another user's rows.
 * With a folder, the (account_id, folder_remote_id, received_at DESC, remote_id DESC) index serves the order and
 * the keyset predicate directly; `q` and `from` go through the GIN index on `search`.
 */
export function buildMessagePageQuery(scope: MailReadScope, page: MessagePageRequest): SqlQuery {
  const params: unknown[] = [];
  const bind = (value: unknown): string => {
    params.push(value);
    return `$${params.length}`;
  };
  const account = bind(scope.accountId);
  const where = [`m.account_id = ${account}`, `a.id = ${account}`, `a.user_id = ${bind(scope.userId)}`];
  const f = page.filter;

  if (f.folderId !== undefined) where.push(`m.folder_remote_id = ${bind(f.folderId)}`);
  if (f.unread !== undefined) where.push(f.unread ? 'NOT m.is_read' : 'm.is_read');
  if (f.flagged !== undefined)
    where.push(f.flagged ? `m.flag_status = 'flagged'` : `m.flag_status <> 'flagged'`);
  if (f.hasAttachments !== undefined)
    where.push(f.hasAttachments ? 'm.has_attachments' : 'NOT m.has_attachments');
  if (f.from !== undefined) {
    // The sender's name or address contains the text, and each of its words begins a word there ('car' finds
    // Carol, 'contoso.example' everyone at contoso.example, 'arol' nothing): the words through the search GIN,
    // then the text itself on the few rows found.
    const words = senderWordsQuery(bind(senderFilterText(f.from)));
    const pattern = bind(`%${escapeLike(f.from)}%`);
    where.push(
      `(m.search @@ ${words} AND (m.from_address ILIKE ${pattern} OR m.from_name ILIKE ${pattern}))`,
    );
  }
  if (f.after !== undefined) where.push(`m.received_at >= ${bind(f.after)}::timestamptz`);
  if (f.before !== undefined) where.push(`m.received_at < ${bind(f.before)}::timestamptz`);
  if (f.q !== undefined) where.push(`m.search @@ websearch_to_tsquery('simple', ${bind(f.q)})`);
  if (page.after !== undefined) {
    where.push(
      `(m.received_at, m.remote_id) < (${bind(page.after.receivedAt)}::timestamptz, ${bind(page.after.id)})`,
    );
  }

  const sql = `SELECT ${MESSAGE_SUMMARY_COLUMNS}
FROM messages m
JOIN mail_accounts a ON a.id = m.account_id
WHERE ${where.join('\n  AND ')}
ORDER BY m.received_at DESC, m.remote_id DESC
LIMIT ${bind(page.limit + 1)}`;
  return { sql, params };
}
