/**
 * The in-memory adapter's cursors: opaque to everyone else, they carry where a round stands, so the adapter keeps
 * nothing per reader. A round serves the changes of one folder in (since, upto]; `upto` is fixed when the round
 * starts, so what changes while a reader pages is left for its next round. A scratch round serves the folder's
 * messages in id order after `after`; a delta round serves the ids its log names, from `offset`. `generation`
 * is the folder's change tracking when the round started: once a test expires it, the cursor is lost.
 */
export interface CursorState {
  folderId: string;
  generation: number;
  since: number;
  upto: number;
  /** scratch: the last id served; delta: how many changed ids were served */
  position: { after: string } | { offset: number } | 'done';
}

const PREFIX = 'mem1.';

export function encodeCursor(state: CursorState): string {
  return PREFIX + Buffer.from(JSON.stringify(state)).toString('base64url');
}

/** the state of a cursor this adapter wrote, or undefined for anything else */
export function decodeCursor(cursor: string): CursorState | undefined {
  if (!cursor.startsWith(PREFIX)) return undefined;
  try {
    const v = JSON.parse(Buffer.from(cursor.slice(PREFIX.length), 'base64url').toString('utf8')) as unknown;
    if (typeof v !== 'object' || v === null) return undefined;
    const s = v as Partial<CursorState>;
    const numbers = [s.generation, s.since, s.upto];
    if (typeof s.folderId !== 'string' || !numbers.every((n) => Number.isInteger(n))) return undefined;
    const p = s.position;
    const position =
      p === 'done' ||
      (typeof p === 'object' &&
        p !== null &&
        (typeof (p as { after?: unknown }).after === 'string' ||
          Number.isInteger((p as { offset?: unknown }).offset)));
    return position ? (s as CursorState) : undefined;
  } catch {
    return undefined;
  }
}
