/**
 * The IMAP adapter's folder cursors: opaque to everyone else, they carry where a read stands, so the adapter keeps
 * nothing per reader.
 *
 * - `initial`: the folder read from scratch, in UID order, the UIDs up to `after` served; `top` is the folder's
 *   HIGHESTMODSEQ when the read started, so what changes while it pages is read by the next round.
 * - `live`: caught up to MODSEQ `m`; a round serves what CONDSTORE reports changed since `m` (flags, new
 *   messages; UIDs after `after` when paging) and what QRESYNC reports VANISHED, and ends caught up to `top`, the
 *   HIGHESTMODSEQ when that round started.
 *
 * `v` is the folder's UIDVALIDITY: when the server's differs, every UID (so every id) of the folder changed and
 * the cursor is lost. Modseqs are 63-bit, so they travel as decimal strings.
 */
export interface ImapCursorState {
  /** the folder's full mailbox path (its id) */
  p: string;
  /** UIDVALIDITY */
  v: string;
  phase: 'initial' | 'live';
  /** live: the modseq the folder is caught up to */
  m: string;
  /** the HIGHESTMODSEQ when the current read started (the cursor's `m` once it is done) */
  top: string;
  /** the last UID served by the current read (0: none yet) */
  after: number;
}

const PREFIX = 'imap1.';

export function encodeImapCursor(state: ImapCursorState): string {
  return PREFIX + Buffer.from(JSON.stringify(state)).toString('base64url');
}

const DECIMAL = /^\d{1,20}$/;

/** the state of a cursor this adapter wrote, or undefined for anything else */
export function decodeImapCursor(cursor: string): ImapCursorState | undefined {
  if (!cursor.startsWith(PREFIX)) return undefined;
  try {
    const v = JSON.parse(Buffer.from(cursor.slice(PREFIX.length), 'base64url').toString('utf8')) as unknown;
    if (typeof v !== 'object' || v === null) return undefined;
    const s = v as Partial<ImapCursorState>;
    if (typeof s.p !== 'string' || (s.phase !== 'initial' && s.phase !== 'live')) return undefined;
    if (![s.v, s.m, s.top].every((n) => typeof n === 'string' && DECIMAL.test(n))) return undefined;
    if (!Number.isSafeInteger(s.after) || (s.after as number) < 0) return undefined;
    return s as ImapCursorState;
  } catch {
    return undefined;
  }
}
