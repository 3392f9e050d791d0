/**
 * Conversations in the mirror core (issue 23, docs/conversations.md): every message written gets a thread id in
 * `messages.conversation_id`, whichever provider delivered it.
 *
 * - A provider that threads itself (Graph's `conversationId`) is taken at its word.
 * - Mail threaded by its headers (IMAP: `Message-ID`, `In-Reply-To`, `References`) gets a first guess here, from the
 *   message alone: the root of its References (their first id), else its In-Reply-To, else its own Message-ID. A
 *   reply and its parent guess the same root whichever arrives first, so most threads need nothing more. The page
 *   upsert then improves the guess set-based in SQL (UPSERT_PAGE_SQL): the thread of a referenced message already
 *   in the account's mirror wins, and mail without references whose subject says it is a reply or forward joins
 *   the newest thread of the same normalised subject; a later statement (MERGE_THREADS_SQL) moves messages that
 *   guessed a message's id as their root into that message's thread once it arrives (a reply before its parent).
 */

/** `Re:`, `Fwd:`, `AW:` and their kin (German, Nordic, Dutch, French, Italian), with an optional `[2]` count */
const REPLY_PREFIX = /^\s*(?:re|fwd?|aw|wg|sv|vs|antw|doorst|tr|rif|r)\s*(?:\[\d+\])?\s*:\s*/i;
/** a mailing list's `[list]` tag before or between prefixes */
const LIST_TAG = /^\s*\[[^\]]{1,40}\]\s*/;

/** the longest Message-ID kept (RFC 5322 lines are 998 characters; anything longer is not a real id) */
const MAX_ID = 998;

/** A Message-ID as `<local@domain>`, whitespace removed; null when nothing id-like is left. */
export function normalizeMessageId(raw: string | null | undefined): string | null {
  if (raw == null) return null;
  const s = raw.replace(/\s+/g, '');
  if (s.length === 0 || s.length > MAX_ID || s === '<>') return null;
  return s.startsWith('<') && s.endsWith('>') ? s : `<${s.replace(/^<|>$/g, '')}>`;
}

/** The ids of a References (or In-Reply-To) header, in order, however the parser handed them over. */
export function messageIdList(raw: string | string[] | null | undefined): string[] {
  if (raw == null) return [];
  const parts = (Array.isArray(raw) ? raw : [raw]).flatMap((v) => v.match(/<[^<>]*>|[^\s<>,]+/g) ?? []);
  const out: string[] = [];
  for (const p of parts) {
    const id = normalizeMessageId(p);
    if (id !== null && !out.includes(id)) out.push(id);
  }
  return out;
}

export interface NormalizedSubject {
  /** lower case, reply/forward prefixes and list tags stripped, whitespace collapsed */
  key: string;
  /** whether a reply or forward prefix was there */
  prefixed: boolean;
}

/** The subject threads are matched on when a message carries no references. */
export function normalizeSubject(subject: string): NormalizedSubject {
  let s = subject;
  let prefixed = false;
  for (;;) {
    const tag = LIST_TAG.exec(s);
    if (tag) {
      s = s.slice(tag[0].length);
      continue;
    }
    const prefix = REPLY_PREFIX.exec(s);
    if (!prefix) break;
    s = s.slice(prefix[0].length);
    prefixed = true;
  }
  return { key: s.replace(/\s+/g, ' ').trim().toLowerCase(), prefixed };
}

export interface ThreadingInput {
  id: string;
  subject: string;
  conversationId: string | null;
  internetMessageId: string | null;
  inReplyTo?: string | null;
  references?: string[] | null;
}

/** What the page upsert needs to thread one message (see UPSERT_PAGE_SQL). */
export interface ThreadColumns {
  /** the provider's conversation id, or the guess from the message's own headers */
  conversationId: string;
  /** the referenced ids, root first, space-separated (looked up in the mirror); '' for none or provider threads */
  refs: string;
  /**
   * null: the provider threads this message (no lookup). Else the normalised subject, stored in
   * `messages.thread_subject`: it marks a header-threaded row (the mirror's thread indexes hold only those).
   */
  threadSubject: string | null;
  /** no references and a reply/forward prefix: join the newest thread of the same subject */
  subjectFallback: boolean;
}

export function threadColumns(m: ThreadingInput): ThreadColumns {
  const provided = m.conversationId?.trim();
  const hasHeaders = m.references !== undefined || m.inReplyTo !== undefined;
  if (provided || !hasHeaders) {
    // a provider's thread, or a writer that knows nothing of threading: the message alone
    return { conversationId: provided || m.id, refs: '', threadSubject: null, subjectFallback: false };
  }
  const refs = messageIdList(m.references ?? []);
  const parent = normalizeMessageId(m.inReplyTo);
  if (parent !== null && !refs.includes(parent)) refs.push(parent);
  const own = normalizeMessageId(m.internetMessageId);
  const ancestors = refs.filter((r) => r !== own);
  const subject = normalizeSubject(m.subject);
  return {
    conversationId: ancestors[0] ?? own ?? m.id,
    refs: ancestors.join(' '),
    threadSubject: subject.key,
    subjectFallback: ancestors.length === 0 && subject.prefixed && subject.key.length > 0,
  };
}
