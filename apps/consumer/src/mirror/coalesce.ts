import type { MailboxPoke, MailboxPokeChange } from '@email-core/contracts';

export type ChangeType = MailboxPokeChange['kind'];

/** Every poke of one account in a fetched batch (or joined to a running round), merged into one round of work. */
export interface CoalescedRound {
  /** each poked message (the provider's id) with every change kind seen for it, duplicates and order aside */
  changes: Map<string, Set<ChangeType>>;
  /** folders a poke named (the provider's id), whatever changed in them */
  folders: Set<string>;
  /** changes that name neither a message nor a folder: every folder runs (correctness first) */
  unidentified: number;
  /** a poke asked for every folder (the reconciliation; a watcher that lost track) */
  everyFolder: boolean;
  /** when the earliest poke that named changes was received (none: only every-folder pokes) */
  notifiedAt: string | undefined;
  /** pokes merged */
  notifications: number;
  /** changes merged */
  items: number;
  /** who poked (the webhook, IDLE, the reconciliation, ...) */
  sources: Set<MailboxPoke['source']>;
}

/** An empty round, to merge pokes into. */
export function emptyRound(): CoalescedRound {
  return {
    changes: new Map(),
    folders: new Set(),
    unidentified: 0,
    everyFolder: false,
    notifiedAt: undefined,
    notifications: 0,
    items: 0,
    sources: new Set(),
  };
}

/** Merges `more` into `into` (the union of both rounds' work). */
export function mergeRounds(into: CoalescedRound, more: CoalescedRound): CoalescedRound {
  for (const [id, kinds] of more.changes) {
    const seen = into.changes.get(id) ?? new Set<ChangeType>();
    for (const k of kinds) seen.add(k);
    into.changes.set(id, seen);
  }
  for (const f of more.folders) into.folders.add(f);
  into.unidentified += more.unidentified;
  into.everyFolder ||= more.everyFolder;
  if (
    more.notifiedAt !== undefined &&
    (into.notifiedAt === undefined || Date.parse(more.notifiedAt) < Date.parse(into.notifiedAt))
  ) {
    into.notifiedAt = more.notifiedAt;
  }
  into.notifications += more.notifications;
  into.items += more.items;
  for (const source of more.sources) into.sources.add(source);
  return into;
}

/**
 * Merges an account's pokes into one round. Pokes only say where to look (the round reads the named folders'
 * changes from their cursors), so duplicates and reordering do not matter: only which messages and folders were
 * named, and how.
 */
export function coalesce(pokes: readonly MailboxPoke[]): CoalescedRound {
  if (pokes.length === 0) throw new Error('coalesce needs at least one poke');
  const round = emptyRound();
  for (const poke of pokes) {
    round.notifications += 1;
    round.sources.add(poke.source);
    if (poke.everyFolder) round.everyFolder = true;
    if (poke.changes.length > 0 && !poke.everyFolder) {
      if (round.notifiedAt === undefined || Date.parse(poke.receivedAt) < Date.parse(round.notifiedAt)) {
        round.notifiedAt = poke.receivedAt;
      }
    }
    for (const change of poke.changes) {
      round.items += 1;
      if (change.folderId !== undefined) round.folders.add(change.folderId);
      if (change.messageId === undefined) {
        if (change.folderId === undefined) round.unidentified += 1;
        continue;
      }
      const kinds = round.changes.get(change.messageId) ?? new Set<ChangeType>();
      kinds.add(change.kind);
      round.changes.set(change.messageId, kinds);
    }
  }
  return round;
}

/** Whether the round names any change at all (else only an every-folder round is left to run). */
export function namesChanges(round: CoalescedRound): boolean {
  return round.changes.size > 0 || round.folders.size > 0 || round.unidentified > 0;
}
