import { normalizeMessageId, threadColumns } from './threading';

/**
 * Input shapes of the mail repositories and their column-array encoding for `unnest(...)` bulk statements.
 * libs/graph builds its GraphMessage on MessageInput (the graph lib depends on this one, not the other way), so a
 * Graph object is passed in as is.
 */

export interface FolderInput {
  id: string;
  parentFolderId: string | null;
  displayName: string;
  wellKnownName: string | null;
}

export interface RecipientInput {
  name: string;
  address: string;
}

export interface MessageInput {
  id: string;
  changeKey: string;
  subject: string;
  from: RecipientInput | null;
  toRecipients: RecipientInput[];
  ccRecipients: RecipientInput[];
  bodyPreview: string;
  body: { contentType: 'html' | 'text'; content: string };
  receivedAt: string;
  sentAt: string | null;
  isRead: boolean;
  flagStatus: 'notFlagged' | 'flagged' | 'complete';
  importance: 'low' | 'normal' | 'high';
  hasAttachments: boolean;
  /** the provider's own conversation id (Graph); null where mail is threaded by its headers (IMAP) */
  conversationId: string | null;
  internetMessageId: string | null;
  /**
   * The threading headers, for a provider without conversations of its own (IMAP): the mirror core threads the
   * message by them (threading.ts). Absent (undefined) for a provider that threads itself.
   */
  inReplyTo?: string | null;
  references?: string[] | null;
  /** an unsent draft (Graph's isDraft; IMAP's \Draft flag); absent means not a draft */
  isDraft?: boolean;
}

export interface DeltaPageInput {
  messages: MessageInput[];
  /** ids Graph reported `@removed` from this folder */
  removedIds: string[];
}

/** Postgres text cannot hold NUL (and jsonb rejects `\u0000`); mail from the wild sometimes has it. */
export const pgText = (s: string): string => (s.includes('\u0000') ? s.replaceAll('\u0000', '') : s);
const pgTextOrNull = (s: string | null | undefined): string | null => (s == null ? null : pgText(s));

const recipients = (list: RecipientInput[] | null | undefined): string =>
  JSON.stringify((list ?? []).map((r) => ({ name: pgText(r.name ?? ''), address: pgText(r.address ?? '') })));

/** The column order of `MESSAGE_COLUMNS_SQL`; one array per column, one element per message. */
export interface MessageColumns {
  graphId: string[];
  changeKey: string[];
  subject: string[];
  fromName: string[];
  fromAddress: string[];
  toRecipients: string[];
  ccRecipients: string[];
  bodyPreview: string[];
  receivedAt: string[];
  sentAt: Array<string | null>;
  isRead: boolean[];
  flagStatus: string[];
  importance: string[];
  hasAttachments: boolean[];
  /** the provider's conversation id, or the header-threading guess (threadColumns) */
  conversationId: string[];
  internetMessageId: Array<string | null>;
  bodyType: string[];
  bodyContent: string[];
  threadRefs: string[];
  threadSubject: Array<string | null>;
  subjectFallback: boolean[];
  isDraft: boolean[];
}

/** Last occurrence wins: one statement may not touch a row twice (`ON CONFLICT` would refuse). */
export function dedupeById<T extends { id: string }>(items: T[]): T[] {
  const byId = new Map<string, T>();
  for (const item of items) {
    byId.delete(item.id);
    byId.set(item.id, item);
  }
  return [...byId.values()];
}

export function toMessageColumns(messages: MessageInput[]): MessageColumns {
  const c: MessageColumns = {
    graphId: [],
    changeKey: [],
    subject: [],
    fromName: [],
    fromAddress: [],
    toRecipients: [],
    ccRecipients: [],
    bodyPreview: [],
    receivedAt: [],
    sentAt: [],
    isRead: [],
    flagStatus: [],
    importance: [],
    hasAttachments: [],
    conversationId: [],
    internetMessageId: [],
    bodyType: [],
    bodyContent: [],
    threadRefs: [],
    threadSubject: [],
    subjectFallback: [],
    isDraft: [],
  };
  for (const m of messages) {
    c.graphId.push(m.id);
    c.changeKey.push(pgText(m.changeKey));
    c.subject.push(pgText(m.subject ?? ''));
    c.fromName.push(pgText(m.from?.name ?? ''));
    c.fromAddress.push(pgText(m.from?.address ?? ''));
    c.toRecipients.push(recipients(m.toRecipients));
    c.ccRecipients.push(recipients(m.ccRecipients));
    c.bodyPreview.push(pgText(m.bodyPreview ?? ''));
    c.receivedAt.push(m.receivedAt);
    c.sentAt.push(m.sentAt ?? null);
    c.isRead.push(m.isRead);
    c.flagStatus.push(m.flagStatus);
    c.importance.push(m.importance);
    c.hasAttachments.push(m.hasAttachments);
    const thread = threadColumns(m);
    c.conversationId.push(pgText(thread.conversationId));
    // header-threaded rows are found by their Message-ID in the form references take (threading.ts)
    c.internetMessageId.push(
      pgTextOrNull(
        thread.threadSubject === null ? m.internetMessageId : normalizeMessageId(m.internetMessageId),
      ),
    );
    c.bodyType.push(m.body?.contentType === 'html' ? 'html' : 'text');
    c.bodyContent.push(pgText(m.body?.content ?? ''));
    c.threadRefs.push(pgText(thread.refs));
    c.threadSubject.push(pgTextOrNull(thread.threadSubject));
    c.subjectFallback.push(thread.subjectFallback);
    c.isDraft.push(m.isDraft === true);
  }
  return c;
}

/** The parameters of `UPSERT_PAGE_SQL` after `$1` (account id) and `$2` (folder id), in placeholder order. */
export function messageColumnParams(c: MessageColumns): unknown[] {
  return [
    c.graphId,
    c.changeKey,
    c.subject,
    c.fromName,
    c.fromAddress,
    c.toRecipients,
    c.ccRecipients,
    c.bodyPreview,
    c.receivedAt,
    c.sentAt,
    c.isRead,
    c.flagStatus,
    c.importance,
    c.hasAttachments,
    c.conversationId,
    c.internetMessageId,
    c.bodyType,
    c.bodyContent,
    c.threadRefs,
    c.threadSubject,
    c.subjectFallback,
    c.isDraft,
  ];
}
