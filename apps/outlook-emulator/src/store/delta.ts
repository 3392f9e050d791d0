import type { FolderRecord, Mailbox, MessageRecord } from './model';
import { Removal } from './model';

/**
 * Where a delta round stands. A round returns every change in (since, upto]; `upto` is fixed when the round
 * starts, so changes made while a client pages are left for the next round instead of being half-seen.
 * The state travels inside the (opaque) skip and delta tokens, so the emulator keeps nothing per client.
 */
export interface DeltaState {
  mailboxNo: number;
  folderSerial: number;
  generation: number;
  since: number;
  upto: number;
  after: number;
  /** the original $select, replayed by next and delta links */
  select: string | null;
}

export function encodeDeltaToken(s: DeltaState): string {
  return Buffer.from(
    JSON.stringify([s.mailboxNo, s.folderSerial, s.generation, s.since, s.upto, s.after, s.select]),
  ).toString('base64url');
}

export function decodeDeltaToken(token: string): DeltaState | undefined {
  try {
    const a = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    if (!Array.isArray(a) || a.length !== 7) return undefined;
    const [mailboxNo, folderSerial, generation, since, upto, after, select] = a as unknown[];
    const nums = [mailboxNo, folderSerial, generation, since, upto, after];
    if (!nums.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 0)) return undefined;
    if (select !== null && typeof select !== 'string') return undefined;
    return {
      mailboxNo: mailboxNo as number,
      folderSerial: folderSerial as number,
      generation: generation as number,
      since: since as number,
      upto: upto as number,
      after: after as number,
      select: select,
    };
  } catch {
    return undefined;
  }
}

export function startRound(
  mailbox: Mailbox,
  folder: FolderRecord,
  since: number,
  select: string | null,
): DeltaState {
  return {
    mailboxNo: mailbox.no,
    folderSerial: folder.serial,
    generation: mailbox.syncGeneration,
    since,
    upto: mailbox.seq,
    after: since,
    select,
  };
}

export type DeltaItem = { kind: 'message'; message: MessageRecord } | { kind: 'removed'; removal: Removal };

export interface DeltaPage {
  items: DeltaItem[];
  /** the state for the nextLink; undefined when the round is complete (then a deltaLink with since = upto) */
  next: DeltaState | undefined;
}

/** how many log entries one page may scan; past it the page ends early (possibly empty) with a nextLink */
const SCAN_FACTOR = 20;

export function deltaPage(folder: FolderRecord, state: DeltaState, pageSize: number): DeltaPage {
  const log = folder.log;
  const items: DeltaItem[] = [];
  const scanLimit = pageSize * SCAN_FACTOR;
  let i = log.firstAfter(state.after);
  let scanned = 0;
  let lastSeq = state.after;
  const end = log.seqs.length;
  while (i < end && items.length < pageSize && scanned < scanLimit) {
    const seq = log.seqs[i];
    if (seq > state.upto) break;
    const item = log.items[i];
    if (item instanceof Removal) {
      if (item.message.deleted || item.message.folder !== folder)
        items.push({ kind: 'removed', removal: item });
    } else if (item.folder === folder && !item.deleted && item.changeSeq === seq) {
      items.push({ kind: 'message', message: item });
    }
    lastSeq = seq;
    scanned++;
    i++;
  }
  const done = i >= end || log.seqs[i] > state.upto;
  return { items, next: done ? undefined : { ...state, after: lastSeq } };
}
