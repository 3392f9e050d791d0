import type { MailReadScope, MessageCursorKey } from './mail-read.types';
import { MESSAGE_SUMMARY_COLUMNS, type SqlQuery } from './message-page-sql';

export interface ConversationPageRequest {
  folderId: string;
  /** rows to return; the builder asks for one more to learn whether a next page exists */
  limit: number;
  /** the latest message of the previous page's last conversation */
  after?: MessageCursorKey;
}

/** the most messages the conversation reader returns (the latest ones, shown oldest first) */
export const CONVERSATION_READ_LIMIT = 200;
/** the most message ids a conversation row carries: one command's worth */
export const CONVERSATION_IDS_LIMIT = 500;
/** the senders read per conversation, oldest first, to find its distinct participants in (participantsOf) */
const SENDERS_READ = 100;
/** the most participants a conversation row names */
export const PARTICIPANTS_LIMIT = 10;

/**
 * One page of a folder's conversations, newest first by their latest message in the folder, keyset-paginated on
 * that message's (received_at, remote_id), so its cursor is a message list cursor. The walk is the message list's
 * (the per-folder index, newest first), keeping a message only if no newer one of its conversation is in the folder:
 * one probe of `messages_conversation_idx` per message walked, so a page costs its rows plus the older messages of
 * the conversations on it, whatever the mailbox's size. The page's rows then gather their conversation's messages
 * in the folder in one scan of the same index (count, unread, flag, attachments, senders, ids). Ownership is in the query
 * (the join on mail_accounts.user_id), every value a bound parameter.
 */
export function buildConversationPageQuery(scope: MailReadScope, page: ConversationPageRequest): SqlQuery {
  const params: unknown[] = [];
  const bind = (value: unknown): string => {
    params.push(value);
    return `$${params.length}`;
  };
  const account = bind(scope.accountId);
  const user = bind(scope.userId);
  const folder = bind(page.folderId);
  const keyset =
    page.after === undefined
      ? ''
      : `AND (m.received_at, m.remote_id) < (${bind(page.after.receivedAt)}::timestamptz, ${bind(page.after.id)})`;
  const sql = `WITH latest AS (
  SELECT m.conversation_id, m.remote_id, m.received_at, m.subject, m.body_preview,
    to_char(m.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS received_key
  FROM messages m
  JOIN mail_accounts a ON a.id = m.account_id
  WHERE m.account_id = ${account} AND a.id = ${account} AND a.user_id = ${user} AND m.folder_remote_id = ${folder}
    ${keyset}
    AND NOT EXISTS (
      SELECT 1 FROM messages n
      WHERE n.account_id = ${account} AND n.conversation_id = m.conversation_id
        AND n.folder_remote_id = ${folder} AND (n.received_at, n.remote_id) > (m.received_at, m.remote_id))
  ORDER BY m.received_at DESC, m.remote_id DESC
  LIMIT ${bind(page.limit + 1)}
)
SELECT l.conversation_id, l.remote_id, l.received_at, l.received_key, l.subject, l.body_preview, s.*
FROM latest l
CROSS JOIN LATERAL (
  SELECT count(*)::int AS message_count,
    (count(*) FILTER (WHERE NOT c.is_read))::int AS unread_count,
    bool_or(c.flag_status = 'flagged') AS flagged,
    bool_or(c.has_attachments) AS has_attachments,
    (array_agg(c.remote_id ORDER BY c.received_at DESC, c.remote_id DESC))[1:${CONVERSATION_IDS_LIMIT}] AS message_ids,
    (array_agg(json_build_object('name', c.from_name, 'address', c.from_address) ORDER BY c.received_at, c.remote_id)
       FILTER (WHERE c.from_address <> '' OR c.from_name <> ''))[1:${SENDERS_READ}] AS senders
  FROM messages c
  WHERE c.account_id = ${account} AND c.conversation_id = l.conversation_id AND c.folder_remote_id = ${folder}
) s
ORDER BY l.received_at DESC, l.remote_id DESC`;
  return { sql, params };
}

/**
 * A conversation's latest CONVERSATION_READ_LIMIT messages across the account's folders, with the count of all of
 * them, from `messages_conversation_idx`. A LEFT JOIN from the owned account: no row at all means not theirs.
 */
export function buildConversationQuery(scope: MailReadScope, conversationId: string): SqlQuery {
  return {
    sql: `SELECT ${MESSAGE_SUMMARY_COLUMNS},
       (SELECT count(*)::int FROM messages x WHERE x.account_id = a.id AND x.conversation_id = $3) AS message_count
FROM mail_accounts a
LEFT JOIN LATERAL (
  SELECT * FROM messages e
  WHERE e.account_id = a.id AND e.conversation_id = $3
  ORDER BY e.received_at DESC, e.remote_id DESC
  LIMIT ${CONVERSATION_READ_LIMIT}
) m ON true
WHERE a.id = $1 AND a.user_id = $2
ORDER BY m.received_at ASC, m.remote_id ASC`,
    params: [scope.accountId, scope.userId, conversationId],
  };
}
