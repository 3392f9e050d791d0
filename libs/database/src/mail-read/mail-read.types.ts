/**
 * What the read side returns: plain JSON-ready values (ISO strings, no Date objects), so a result served from
 * the Redis cache is byte-for-byte what the database path would have produced.
 */

/** who a read is for: every read is scoped to one signed-in user's account */
export interface MailReadScope {
  userId: string;
  accountId: string;
}

export interface RecipientView {
  name: string;
  address: string;
}

export interface FolderView {
  id: string;
  /** null for a top-level folder (its Graph parent, the hidden mailbox root, is not a listed folder) */
  parentId: string | null;
  displayName: string;
  wellKnownName: string | null;
  /** counted from the mirrored messages, so exact once sync has applied them */
  totalCount: number;
  unreadCount: number;
}

export type FlagStatus = 'notFlagged' | 'flagged' | 'complete';
export type Importance = 'low' | 'normal' | 'high';

export interface MessageSummaryView {
  id: string;
  folderId: string;
  subject: string;
  /** null when the message has no sender (a draft) */
  from: RecipientView | null;
  toRecipients: RecipientView[];
  ccRecipients: RecipientView[];
  bodyPreview: string;
  receivedAt: string;
  sentAt: string | null;
  isRead: boolean;
  flagStatus: FlagStatus;
  importance: Importance;
  hasAttachments: boolean;
  conversationId: string | null;
}

export interface MessageBodyView {
  contentType: 'html' | 'text';
  content: string;
}

export interface MessageDetailView extends MessageSummaryView {
  /** null only if the body row has not landed (never after a completed sync) */
  body: MessageBodyView | null;
  /**
   * a reply or forward draft saved through Email Core: the message it answers, and how (`draft_origins`); null for
   * any other message (docs/mail-actions.md#drafts)
   */
  draftOrigin: { messageId: string; kind: 'reply' | 'replyAll' | 'forward' } | null;
}

export interface MessagePageView {
  items: MessageSummaryView[];
  /** opaque; null on the last page */
  nextCursor: string | null;
}

/** the filters of a message list; every one is optional and they combine with AND */
export interface MessageListFilter {
  folderId?: string;
  unread?: boolean;
  /** true: flag_status = 'flagged'; false: anything else (not flagged or completed) */
  flagged?: boolean;
  hasAttachments?: boolean;
  /** case-insensitive substring of the sender's name or address */
  from?: string;
  /** received at or after this instant (ISO 8601 with offset) */
  after?: string;
  /** received strictly before this instant */
  before?: string;
  /** websearch syntax ("phrase", -word, or) over subject, sender and body */
  q?: string;
}

/** the position after which a page starts: the last row's (received_at, remote_id) */
export interface MessageCursorKey {
  /** received_at in UTC with microseconds, as Postgres holds it */
  receivedAt: string;
  id: string;
}

/**
 * One conversation of a folder in the conversation list (docs/conversations.md): its messages in that folder,
 * the latest of them standing for it.
 */
export interface ConversationSummaryView {
  /** the mirror's thread id (`conversationId` of its messages) */
  id: string;
  folderId: string;
  /** the latest message's */
  subject: string;
  bodyPreview: string;
  receivedAt: string;
  latestMessageId: string;
  /** messages of the conversation in this folder */
  messageCount: number;
  unreadCount: number;
  /** any of them flagged */
  flagged: boolean;
  hasAttachments: boolean;
  /** distinct senders in this folder, first to write first (at most 10) */
  participants: RecipientView[];
  /** the ids of its messages in this folder, newest first (at most 500: one command's worth), for actions */
  messageIds: string[];
}

export interface ConversationPageView {
  items: ConversationSummaryView[];
  /** opaque; null on the last page */
  nextCursor: string | null;
}

/** A whole conversation, across folders, oldest first (its latest CONVERSATION_READ_LIMIT messages). */
export interface ConversationView {
  id: string;
  /** every message of the conversation in the mirror, even past the ones returned */
  messageCount: number;
  messages: MessageSummaryView[];
}

export type MailReadError =
  'ACCOUNT_NOT_FOUND' | 'FOLDER_NOT_FOUND' | 'MESSAGE_NOT_FOUND' | 'CONVERSATION_NOT_FOUND';

export type ReadResult<T, E extends MailReadError = MailReadError> =
  { ok: true; value: T } | { ok: false; error: E };
