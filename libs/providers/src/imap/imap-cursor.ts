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
 *
 * `u`, only on servers with CONDSTORE but without QRESYNC (Gmail): the UIDs served so far and not reported removed,
 * as an IMAP sequence set (`1:500,502,510:900`). Such a server tells what changed since a modseq but not what was
 * expunged, so a live round compares `u` with the folder's UIDs (`UID SEARCH ALL`): a served UID that is gone was
 * expunged. A folder's UIDs are mostly runs, so the set stays short; a cursor without it on such a server is lost
 * (the folder is read again, once).
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
  /** servers without QRESYNC: the UIDs served and not reported removed, as a sequence set */
  u?: string;
}

const UID_SET = /^(\d+(:\d+)?)(,\d+(:\d+)?)*$/;

/** UIDs (any order, duplicates allowed) as a sequence set of ascending runs: `[1,2,3,5]` → `1:3,5` */
export function formatUidSet(uids: Iterable<number>): string {
  const sorted = [...new Set(uids)].sort((a, b) => a - b);
  const runs: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    runs.push(j === i ? String(sorted[i]) : `${sorted[i]}:${sorted[j]}`);
    i = j + 1;
  }
  return runs.join(',');
}

/** a cursor's set holds at most this many UIDs (a folder's messages; far above any real folder) */
const MAX_SET_UIDS = 10_000_000;

/** how many UIDs a well-formed set names, without expanding it (NaN for descending runs) */
function uidSetSize(set: string): number {
  let n = 0;
  for (const run of set.split(',')) {
    const [a, b] = run.split(':').map(Number);
    if ((b ?? a) < a) return NaN;
    n += (b ?? a) - a + 1;
  }
  return n;
}

/** the UIDs of a sequence set {@link formatUidSet} wrote, ascending */
export function parseUidSet(set: string): number[] {
  if (set === '') return [];
  const out: number[] = [];
  for (const run of set.split(',')) {
    const [a, b] = run.split(':').map(Number);
    for (let uid = a; uid <= (b ?? a); uid++) out.push(uid);
  }
  return out;
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
    if (s.u !== undefined) {
      if (typeof s.u !== 'string') return undefined;
      if (s.u !== '' && !(UID_SET.test(s.u) && uidSetSize(s.u) <= MAX_SET_UIDS)) return undefined;
    }
    return s as ImapCursorState;
  } catch {
    return undefined;
  }
}
