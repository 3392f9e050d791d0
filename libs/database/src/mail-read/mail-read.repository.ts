import type { DataSource } from 'typeorm';
import { orderFolderTree } from './folder-tree';
import {
  buildConversationPageQuery,
  buildConversationQuery,
  PARTICIPANTS_LIMIT,
  type ConversationPageRequest,
} from './conversation-sql';
import type {
  ConversationPageView,
  ConversationView,
  FlagStatus,
  FolderView,
  Importance,
  MailReadScope,
  MessageDetailView,
  MessagePageView,
  MessageSummaryView,
  ReadResult,
  RecipientView,
} from './mail-read.types';
import { encodeMessageCursor } from './message-cursor';
import { buildMessagePageQuery, MESSAGE_SUMMARY_COLUMNS, type MessagePageRequest } from './message-page-sql';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface FolderRow {
  remote_id: string | null;
  parent_remote_id: string | null;
  display_name: string | null;
  well_known_name: string | null;
  total_count: number | null;
  unread_count: number | null;
}

interface MessageRow {
  remote_id: string;
  folder_remote_id: string;
  subject: string;
  from_name: string;
  from_address: string;
  to_recipients: unknown;
  cc_recipients: unknown;
  body_preview: string;
  received_at: Date;
  sent_at: Date | null;
  is_read: boolean;
  flag_status: string;
  importance: string;
  has_attachments: boolean;
  conversation_id: string | null;
  received_key: string;
}

interface ConversationRow {
  conversation_id: string;
  remote_id: string;
  received_at: Date;
  received_key: string;
  subject: string;
  body_preview: string;
  message_count: number;
  unread_count: number;
  flagged: boolean;
  has_attachments: boolean;
  message_ids: string[];
  /** senders oldest first, with repeats (conversation-sql.ts) */
  senders: unknown;
}

interface MessageDetailRow extends MessageRow {
  body_content_type: string | null;
  body_content: string | null;
  origin_message_id: string | null;
  origin_kind: 'reply' | 'replyAll' | 'forward' | null;
}

/**
 * The read side of the mail mirror, for the API's query handlers: intent-level methods, parameterised SQL only,
 * and the owner check inside every statement (a join on mail_accounts.user_id), so an account or message of
 * another user reads exactly like one that does not exist. Results are JSON-ready (see mail-read.types).
 */
export class MailReadRepository {
  constructor(private readonly db: DataSource) {}

  /**
   * The account's folders in tree order with their stored counts: `mail_folders.total_count`/`unread_count`, which
   * every writer of the mirror keeps exact in the transaction that changes the messages (not the provider's own
   * totals, which describe the mailbox when the tree was read). O(folders), whatever the mailbox's size.
   */
  async listFolders(scope: MailReadScope): Promise<ReadResult<FolderView[], 'ACCOUNT_NOT_FOUND'>> {
    if (!UUID.test(scope.accountId)) return { ok: false, error: 'ACCOUNT_NOT_FOUND' };
    // a LEFT JOIN from the owned account: no row at all means "not yours"; one row of NULLs means "no folders yet"
    const rows = await this.db.query<FolderRow[]>(
      `SELECT f.remote_id, f.parent_remote_id, f.display_name, f.well_known_name, f.total_count, f.unread_count
       FROM mail_accounts a
       LEFT JOIN mail_folders f ON f.account_id = a.id
       WHERE a.id = $1 AND a.user_id = $2`,
      [scope.accountId, scope.userId],
    );
    if (rows.length === 0) return { ok: false, error: 'ACCOUNT_NOT_FOUND' };
    const folders: FolderView[] = [];
    for (const r of rows) {
      if (r.remote_id === null) continue;
      folders.push({
        id: r.remote_id,
        parentId: r.parent_remote_id,
        displayName: r.display_name ?? '',
        wellKnownName: r.well_known_name,
        totalCount: r.total_count ?? 0,
        unreadCount: r.unread_count ?? 0,
      });
    }
    return { ok: true, value: orderFolderTree(folders) };
  }

  /** Whether the account is the user's and, when a folder is named, whether the account has it. */
  async checkListScope(
    scope: MailReadScope,
    folderId: string | undefined,
  ): Promise<ReadResult<true, 'ACCOUNT_NOT_FOUND' | 'FOLDER_NOT_FOUND'>> {
    if (!UUID.test(scope.accountId)) return { ok: false, error: 'ACCOUNT_NOT_FOUND' };
    const rows = await this.db.query<Array<{ folder_found: boolean }>>(
      `SELECT ($3::text IS NULL OR EXISTS (
                SELECT 1 FROM mail_folders f WHERE f.account_id = a.id AND f.remote_id = $3::text)) AS folder_found
       FROM mail_accounts a
       WHERE a.id = $1 AND a.user_id = $2`,
      [scope.accountId, scope.userId, folderId ?? null],
    );
    if (rows.length === 0) return { ok: false, error: 'ACCOUNT_NOT_FOUND' };
    if (!rows[0]?.folder_found) return { ok: false, error: 'FOLDER_NOT_FOUND' };
    return { ok: true, value: true };
  }

  /**
   * One page of messages, newest first, keyset-paginated. Checks the scope first so an unknown account or
   * folder is a 404 rather than an empty page.
   */
  async findMessagePage(
    scope: MailReadScope,
    page: MessagePageRequest,
  ): Promise<ReadResult<MessagePageView, 'ACCOUNT_NOT_FOUND' | 'FOLDER_NOT_FOUND'>> {
    const checked = await this.checkListScope(scope, page.filter.folderId);
    if (!checked.ok) return checked;
    const { sql, params } = buildMessagePageQuery(scope, page);
    const rows = await this.db.query<MessageRow[]>(sql, params);
    const { items, nextCursor } = keysetPage(rows, page.limit);
    return { ok: true, value: { items: items.map(toSummary), nextCursor } };
  }

  /**
   * One page of a folder's conversations, newest first by their latest message there (conversation-sql.ts).
   * Checks the scope first so an unknown account or folder is a 404 rather than an empty page.
   */
  async findConversationPage(
    scope: MailReadScope,
    page: ConversationPageRequest,
  ): Promise<ReadResult<ConversationPageView, 'ACCOUNT_NOT_FOUND' | 'FOLDER_NOT_FOUND'>> {
    const checked = await this.checkListScope(scope, page.folderId);
    if (!checked.ok) return checked;
    const { sql, params } = buildConversationPageQuery(scope, page);
    const rows = await this.db.query<ConversationRow[]>(sql, params);
    const { items, nextCursor } = keysetPage(rows, page.limit);
    return {
      ok: true,
      value: {
        items: items.map((r) => ({
          id: r.conversation_id,
          folderId: page.folderId,
          subject: r.subject,
          bodyPreview: r.body_preview,
          receivedAt: r.received_at.toISOString(),
          latestMessageId: r.remote_id,
          messageCount: r.message_count,
          unreadCount: r.unread_count,
          flagged: r.flagged,
          hasAttachments: r.has_attachments,
          participants: participantsOf(toRecipients(r.senders)),
          messageIds: r.message_ids,
        })),
        nextCursor,
      },
    };
  }

  /** A conversation's messages across the account's folders, oldest first (conversation-sql.ts). */
  async findConversation(
    scope: MailReadScope,
    conversationId: string,
  ): Promise<ReadResult<ConversationView, 'ACCOUNT_NOT_FOUND' | 'CONVERSATION_NOT_FOUND'>> {
    if (!UUID.test(scope.accountId)) return { ok: false, error: 'ACCOUNT_NOT_FOUND' };
    const { sql, params } = buildConversationQuery(scope, conversationId);
    const rows = await this.db.query<Array<MessageRow & { message_count: number }>>(sql, params);
    if (rows.length === 0) return { ok: false, error: 'ACCOUNT_NOT_FOUND' };
    const found = rows.filter((r) => r.remote_id !== null);
    if (found.length === 0) return { ok: false, error: 'CONVERSATION_NOT_FOUND' };
    return {
      ok: true,
      value: {
        id: conversationId,
        messageCount: found[0]?.message_count ?? 0,
        messages: found.map(toSummary),
      },
    };
  }

  /** One message with its full body. */
  async findMessage(
    scope: MailReadScope,
    messageId: string,
  ): Promise<ReadResult<MessageDetailView, 'ACCOUNT_NOT_FOUND' | 'MESSAGE_NOT_FOUND'>> {
    if (!UUID.test(scope.accountId)) return { ok: false, error: 'ACCOUNT_NOT_FOUND' };
    // LEFT JOINs from the owned account: no row means not theirs; NULL message columns mean no such message
    const rows = await this.db.query<Array<{ [K in keyof MessageDetailRow]: MessageDetailRow[K] | null }>>(
      `SELECT ${MESSAGE_SUMMARY_COLUMNS},
              b.content_type AS body_content_type, b.content AS body_content,
              o.origin_message_id, o.kind AS origin_kind
       FROM mail_accounts a
       LEFT JOIN messages m ON m.account_id = a.id AND m.remote_id = $3
       LEFT JOIN message_bodies b ON b.account_id = m.account_id AND b.remote_id = m.remote_id
       LEFT JOIN draft_origins o ON o.account_id = m.account_id AND o.draft_id = m.remote_id
       WHERE a.id = $1 AND a.user_id = $2`,
      [scope.accountId, scope.userId, messageId],
    );
    const row = rows[0];
    if (!row) return { ok: false, error: 'ACCOUNT_NOT_FOUND' };
    if (row.remote_id === null) return { ok: false, error: 'MESSAGE_NOT_FOUND' };
    const full = row as MessageDetailRow;
    const body =
      full.body_content !== null && full.body_content_type !== null
        ? {
            contentType:
              full.body_content_type.toLowerCase() === 'html' ? ('html' as const) : ('text' as const),
            content: full.body_content,
          }
        : null;
    const draftOrigin =
      full.origin_message_id !== null && full.origin_kind !== null
        ? { messageId: full.origin_message_id, kind: full.origin_kind }
        : null;
    return { ok: true, value: { ...toSummary(full), body, draftOrigin } };
  }
}

/** a page's rows (the query asked for one more) and the cursor after its last row, null on the last page */
function keysetPage<R extends { received_key: string; remote_id: string }>(
  rows: R[],
  limit: number,
): { items: R[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  const nextCursor =
    rows.length > limit && last
      ? encodeMessageCursor({ receivedAt: last.received_key, id: last.remote_id })
      : null;
  return { items, nextCursor };
}

/** distinct senders, first to write first: one per address whatever its case (per name without one) */
export function participantsOf(senders: RecipientView[]): RecipientView[] {
  const seen = new Set<string>();
  const out: RecipientView[] = [];
  for (const s of senders) {
    const key = s.address ? `a:${s.address.toLowerCase()}` : `n:${s.name}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(s);
    if (out.length === PARTICIPANTS_LIMIT) break;
  }
  return out;
}

function toRecipients(value: unknown): RecipientView[] {
  if (!Array.isArray(value)) return [];
  return value.map((entry: unknown) => {
    const r = (entry ?? {}) as { name?: unknown; address?: unknown };
    return {
      name: typeof r.name === 'string' ? r.name : '',
      address: typeof r.address === 'string' ? r.address : '',
    };
  });
}

const FLAG_STATUSES: readonly FlagStatus[] = ['notFlagged', 'flagged', 'complete'];
const IMPORTANCES: readonly Importance[] = ['low', 'normal', 'high'];

function toSummary(r: MessageRow): MessageSummaryView {
  return {
    id: r.remote_id,
    folderId: r.folder_remote_id,
    subject: r.subject,
    from: r.from_address || r.from_name ? { name: r.from_name, address: r.from_address } : null,
    toRecipients: toRecipients(r.to_recipients),
    ccRecipients: toRecipients(r.cc_recipients),
    bodyPreview: r.body_preview,
    receivedAt: r.received_at.toISOString(),
    sentAt: r.sent_at ? r.sent_at.toISOString() : null,
    isRead: r.is_read,
    flagStatus: FLAG_STATUSES.find((s) => s === r.flag_status) ?? 'notFlagged',
    importance: IMPORTANCES.find((s) => s === r.importance) ?? 'normal',
    hasAttachments: r.has_attachments,
    conversationId: r.conversation_id,
  };
}
