import type { FetchMessageObject, ImapFlow, MailboxObject } from 'imapflow';
import type { FlagStatus, ManyIdsAction, ManyIdsResult } from '../port';
import { ProviderRefusedError, ProviderUnavailableError } from '../port';
import { checked, flagChanges, resolveFolder, specialUseFolder } from './imap-actions';
import { DRAFT_ID_HEADER } from './imap-compose';
import { imapCall, itemNotFound } from './imap-errors';
import { decodeMessageId, encodeMessageId, type ImapMessageLocation } from './imap-ids';

/**
 * The port's `applyMany` for IMAP: read, flag, move and delete on many messages, set-based. The ids are grouped by
 * folder (mailbox path); each folder is selected once, the ids still there (same UIDVALIDITY, the UID found by one
 * `UID SEARCH UID <set>`) are acted on by one UID command per set of at most 500 UIDs (`1:40,52`):
 *
 * - read/flag: `UID STORE <set> +FLAGS/-FLAGS` (`\Seen`; `\Flagged`, `$Completed` as `setFlag` does);
 * - move: `UID MOVE <set>` (imapflow: COPY + `\Deleted` + UID EXPUNGE without MOVE), the new UIDs from COPYUID's
 *   uid map; a UID the map does not name (no UIDPLUS, or a server that split its COPYUID) is found in the
 *   destination by Message-ID among the UIDs from its UIDNEXT before the move;
 * - delete: a move to `\Trash`, or in Trash (or without one) `\Deleted` + UID EXPUNGE of the set.
 *
 * Per-id semantics are the one-id methods': an id that does not decode, whose folder is gone, whose UIDVALIDITY
 * changed or whose UID is not there is that id's 404 (a delete first looks for a draft rebuilt under a new UID by
 * its `X-Email-Core-Draft-Id`, as `delete` does); a set the server refuses (NO) is done again one UID at a time,
 * so only the UIDs it refuses fail. A missing move destination is thrown (the whole call), as is a transient
 * failure; everything here is safe to do again.
 */

/** UIDs per UID command: a command line stays short even when the UIDs are scattered. */
export const MAX_UIDS_PER_COMMAND = 500;

const SEEN = '\\Seen';

/** `[1, 2, 3, 7]` → `1:3,7` (sorted, distinct UIDs). */
function compact(sorted: readonly number[]): string {
  const parts: string[] = [];
  let start = sorted[0];
  let prev = start;
  const close = () => parts.push(start === prev ? String(start) : `${start}:${prev}`);
  for (const uid of sorted.slice(1)) {
    if (uid === prev + 1) {
      prev = uid;
      continue;
    }
    close();
    start = prev = uid;
  }
  close();
  return parts.join(',');
}

/** UIDs as compact uid-sets of at most `max` UIDs each, ascending: `[52, 1, 2, …, 40]` → `['1:40,52']`. */
export function uidSets(uids: Iterable<number>, max = MAX_UIDS_PER_COMMAND): string[] {
  const sorted = [...new Set(uids)].sort((a, b) => a - b);
  const sets: string[] = [];
  for (let i = 0; i < sorted.length; i += max) sets.push(compact(sorted.slice(i, i + max)));
  return sets;
}

/** The UIDs a uid-set names (`1:3,7` → 1, 2, 3, 7). */
function uidsOf(set: string): number[] {
  const uids: number[] = [];
  for (const part of set.split(',')) {
    const [from, to = from] = part.split(':').map(Number);
    for (let uid = from; uid <= to; uid++) uids.push(uid);
  }
  return uids;
}

type Now = { id: string; parentFolderId: string | null } | null;

/** The results being gathered: one per id, the refusals as the one-id methods throw them. */
class Results {
  private readonly byId = new Map<string, ManyIdsResult>();

  done(id: string, now?: Now): void {
    this.byId.set(id, now === undefined ? { id, ok: true } : { id, ok: true, now });
  }

  refused(id: string, error: ProviderRefusedError): void {
    this.byId.set(id, { id, ok: false, error });
  }

  gone(id: string): void {
    this.refused(id, itemNotFound(`no message ${id}`));
  }

  inOrder(ids: readonly string[]): ManyIdsResult[] {
    return [...new Set(ids)].map((id) => this.byId.get(id) ?? { id, ok: false, error: itemNotFound(id) });
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (!signal?.aborted) return;
  const reason: unknown = signal.reason;
  throw reason instanceof Error ? reason : new Error('the command was aborted');
}

/** A message id's folder and UID, for the ids of one folder. */
interface Target {
  id: string;
  loc: ImapMessageLocation;
}

/** Where the action sends the messages of a folder: nowhere (flags), a folder, or gone for good (expunge). */
type Plan =
  | { kind: 'flags'; add: string[]; remove: string[] }
  | { kind: 'move'; dest: string }
  | { kind: 'stay' }
  | { kind: 'expunge' };

/** Applies `action` to every id, set-based (see the file comment). One result per distinct id, in input order. */
export async function applyToMany(
  client: ImapFlow,
  ids: readonly string[],
  action: ManyIdsAction,
  signal?: AbortSignal,
): Promise<ManyIdsResult[]> {
  const results = new Results();
  const byFolder = new Map<string, Target[]>();
  for (const id of new Set(ids)) {
    const loc = decodeMessageId(id);
    if (!loc) {
      results.gone(id);
      continue;
    }
    const group = byFolder.get(loc.path) ?? [];
    group.push({ id, loc });
    byFolder.set(loc.path, group);
  }
  throwIfAborted(signal);

  let dest: string | null = null;
  let trash: string | null = null;
  if (action.action === 'move') {
    dest = await resolveFolder(client, action.destinationId);
    if (dest === null) throw itemNotFound(`no folder ${action.destinationId}`);
  } else if (action.action === 'delete' && byFolder.size > 0) {
    trash = await specialUseFolder(client, '\\Trash');
  }

  for (const [path, targets] of byFolder) {
    throwIfAborted(signal);
    const plan = (mailbox: MailboxObject): Plan => {
      switch (action.action) {
        case 'markRead':
          return action.isRead
            ? { kind: 'flags', add: [SEEN], remove: [] }
            : { kind: 'flags', add: [], remove: [SEEN] };
        case 'flag':
          return flagPlan(mailbox, action.flagStatus);
        case 'move':
          return dest === path ? { kind: 'stay' } : { kind: 'move', dest: dest as string };
        case 'delete':
          return trash !== null && trash !== path ? { kind: 'move', dest: trash } : { kind: 'expunge' };
      }
    };
    await inFolder(client, path, targets, results, action.action === 'delete', plan, signal);
  }
  return results.inOrder(ids);
}

/** what the one-id `setFlag` stores, by set */
function flagPlan(mailbox: MailboxObject, flagStatus: FlagStatus): Plan {
  return { kind: 'flags', ...flagChanges(mailbox, flagStatus) };
}

/** The ids of one folder: selected once, the ones still there acted on by set. */
async function inFolder(
  client: ImapFlow,
  path: string,
  targets: Target[],
  results: Results,
  findDrafts: boolean,
  planFor: (mailbox: MailboxObject) => Plan,
  signal: AbortSignal | undefined,
): Promise<void> {
  let lock: { release(): void };
  try {
    lock = await imapCall(() => client.getMailboxLock(path));
  } catch (err) {
    // the folder is gone (404) or cannot be selected: what each one-id call would have thrown
    if (!(err instanceof ProviderRefusedError)) throw err;
    for (const t of targets) results.refused(t.id, err);
    return;
  }
  /** the ids each UID stands for (a draft's first id and its rebuilt UID can name the same message) */
  const idsOf = new Map<number, string[]>();
  let plan: Plan;
  let moved: Moved | undefined;
  try {
    const mailbox = client.mailbox;
    if (!mailbox) throw itemNotFound(`mailbox ${path} is not selected`);
    plan = planFor(mailbox);
    const current = targets.filter((t) => BigInt(t.loc.uidValidity) === BigInt(mailbox.uidValidity));
    const present = await presentUids(
      client,
      current.map((t) => t.loc.uid),
    );
    const missing: Target[] = [];
    for (const t of targets) {
      if (present.has(t.loc.uid) && current.includes(t)) addId(idsOf, t.loc.uid, t.id);
      else missing.push(t);
    }
    if (findDrafts && missing.length > 0) {
      const drafts = await draftsByFirstId(client);
      for (const t of missing.splice(0)) {
        const uid = drafts.get(t.id);
        if (uid === undefined) missing.push(t);
        else addId(idsOf, uid, t.id);
      }
    }
    for (const t of missing) results.gone(t.id);
    if (idsOf.size === 0) return;

    const loc = (uid: number): ImapMessageLocation => ({ path, uidValidity: mailbox.uidValidity, uid });
    switch (plan.kind) {
      case 'stay':
        for (const [uid, idList] of idsOf)
          for (const id of idList) results.done(id, { id: encodeMessageId(loc(uid)), parentFolderId: path });
        return;
      case 'flags': {
        const { add, remove } = plan;
        await bySet(idsOf, results, signal, undefined, async (set) => {
          if (remove.length > 0) {
            checked(
              client,
              await client.messageFlagsRemove(set, remove, { uid: true }),
              'unflag the messages',
            );
          }
          if (add.length > 0) {
            checked(client, await client.messageFlagsAdd(set, add, { uid: true }), 'flag the messages');
          }
        });
        return;
      }
      case 'expunge':
        // gone for good: the delete answers null
        await bySet(idsOf, results, signal, null, async (set) => {
          checked(client, await client.messageDelete(set, { uid: true }), 'delete the messages');
        });
        return;
      case 'move':
        // settled once the folder's lock is released (a lookup may select the destination)
        moved = await moveSets(client, plan.dest, idsOf, results, signal);
        break;
    }
  } finally {
    lock.release();
  }
  if (moved) await settleMoved(client, moved, idsOf, results);
}

function addId(idsOf: Map<number, string[]>, uid: number, id: string): void {
  const list = idsOf.get(uid) ?? [];
  list.push(id);
  idsOf.set(uid, list);
}

/** Which of the UIDs the selected mailbox holds: one `UID SEARCH UID <set>` per set. */
async function presentUids(client: ImapFlow, uids: number[]): Promise<Set<number>> {
  const present = new Set<number>();
  for (const set of uidSets(uids)) {
    const found = checked(client, await client.search({ uid: set }, { uid: true }), 'look the messages up');
    for (const uid of found) present.add(uid);
  }
  return present;
}

/** The selected folder's drafts rebuilt under a new UID: their first id (the draft header) → the newest UID. */
async function draftsByFirstId(client: ImapFlow): Promise<Map<string, number>> {
  const found = new Map<string, number>();
  const uids =
    (await client.search({ header: { [DRAFT_ID_HEADER]: true } }, { uid: true })) || ([] as number[]);
  for (const set of uidSets(uids)) {
    for await (const m of client.fetch(set, { uid: true, headers: [DRAFT_ID_HEADER] }, { uid: true })) {
      const firstId = headerValue(m, DRAFT_ID_HEADER);
      if (firstId && m.uid > (found.get(firstId) ?? 0)) found.set(firstId, m.uid);
    }
  }
  return found;
}

function headerValue(m: FetchMessageObject, name: string): string | undefined {
  const text = m.headers?.toString('utf8').replace(/\r?\n[ \t]+/g, ' ') ?? '';
  const line = text.split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(name.length + 1).trim() || undefined;
}

/**
 * Runs `work` on each set of the UIDs; a set the server refuses is done again one UID at a time, so that only the
 * UIDs it refuses fail (each with the refusal). Marks every UID done that no refusal named.
 */
async function bySet(
  idsOf: Map<number, string[]>,
  results: Results,
  signal: AbortSignal | undefined,
  now: Now | undefined,
  work: (set: string) => Promise<void>,
): Promise<void> {
  for (const set of uidSets(idsOf.keys())) {
    throwIfAborted(signal);
    try {
      await imapCall(() => work(set));
      for (const uid of uidsOf(set)) for (const id of idsOf.get(uid) ?? []) results.done(id, now);
    } catch (err) {
      if (!(err instanceof ProviderRefusedError)) throw err;
      for (const uid of uidsOf(set)) {
        try {
          await imapCall(() => work(String(uid)));
          for (const id of idsOf.get(uid) ?? []) results.done(id, now);
        } catch (one) {
          if (!(one instanceof ProviderRefusedError)) throw one;
          for (const id of idsOf.get(uid) ?? []) results.refused(id, one);
        }
      }
    }
  }
}

/** What the moves of one folder left to settle once the folder's lock is released. */
interface Moved {
  dest: string;
  /** the destination's UIDVALIDITY, from COPYUID */
  uidValidity?: bigint;
  /** source UID → destination UID, from COPYUID */
  uidMap: Map<number, number>;
  /** the destination's UIDNEXT before the first move */
  uidNextBefore: number;
  /** source UID → Message-ID, for the UIDs COPYUID did not name */
  messageIds: Map<number, string>;
  /** the source UIDs moved (the others were refused, with their results set) */
  uids: number[];
  /** whether the server answered COPYUID at all */
  copyUid: boolean;
}

/** `UID MOVE` of each set (a refused set: one UID at a time), gathering COPYUID's uid maps. */
async function moveSets(
  client: ImapFlow,
  dest: string,
  idsOf: Map<number, string[]>,
  results: Results,
  signal: AbortSignal | undefined,
): Promise<Moved> {
  const status = await imapCall(() => client.status(dest, { uidNext: true, uidValidity: true }));
  if (!status) throw itemNotFound(`no folder ${dest}`);
  const moved: Moved = {
    dest,
    uidMap: new Map(),
    uidNextBefore: status.uidNext ?? 1,
    messageIds: new Map(),
    uids: [],
    copyUid: false,
  };
  const refused = new Set<number>();
  const moveSet = async (set: string): Promise<void> => {
    // the Message-IDs first: the way to find a moved message whose new UID COPYUID does not name
    for await (const m of client.fetch(set, { uid: true, envelope: true }, { uid: true })) {
      if (m.envelope?.messageId) moved.messageIds.set(m.uid, m.envelope.messageId);
    }
    const result = checked(client, await client.messageMove(set, dest, { uid: true }), 'move the messages');
    if (result.uidValidity !== undefined) moved.uidValidity = BigInt(result.uidValidity);
    if (result.uidMap) {
      moved.copyUid = true;
      for (const [from, to] of result.uidMap) moved.uidMap.set(from, to);
    }
  };
  for (const set of uidSets(idsOf.keys())) {
    throwIfAborted(signal);
    try {
      await imapCall(() => moveSet(set));
    } catch (err) {
      if (!(err instanceof ProviderRefusedError)) throw err;
      for (const uid of uidsOf(set)) {
        try {
          await imapCall(() => moveSet(String(uid)));
        } catch (one) {
          if (!(one instanceof ProviderRefusedError)) throw one;
          refused.add(uid);
          for (const id of idsOf.get(uid) ?? []) results.refused(id, one);
        }
      }
    }
  }
  moved.uids = [...idsOf.keys()].filter((uid) => !refused.has(uid));
  return moved;
}

/**
 * Each moved message's id now: the destination's UIDVALIDITY and the new UID from COPYUID; a UID it did not name
 * is looked up in the destination by Message-ID among the UIDs from its UIDNEXT before the move. Not found there:
 * with COPYUID, the message had gone before the move (404, as for a missing UID); without, the move's outcome is
 * unknown (`MovedNotFound`, transient, as the one-id move throws it).
 */
async function settleMoved(
  client: ImapFlow,
  moved: Moved,
  idsOf: Map<number, string[]>,
  results: Results,
): Promise<void> {
  const at = (uidValidity: bigint | number, uid: number) => ({
    id: encodeMessageId({ path: moved.dest, uidValidity, uid }),
    parentFolderId: moved.dest,
  });
  const unmapped: number[] = [];
  for (const uid of moved.uids) {
    const to = moved.uidMap.get(uid);
    if (to !== undefined && moved.uidValidity !== undefined) {
      for (const id of idsOf.get(uid) ?? []) results.done(id, at(moved.uidValidity, to));
    } else unmapped.push(uid);
  }
  if (unmapped.length === 0) return;
  const lock = await imapCall(() => client.getMailboxLock(moved.dest));
  try {
    const mailbox = client.mailbox;
    if (!mailbox) throw itemNotFound(`mailbox ${moved.dest} is not selected`);
    const taken = new Set(moved.uidMap.values());
    const byMessageId = new Map<string, number[]>();
    for await (const m of client.fetch(
      `${moved.uidNextBefore}:*`,
      { uid: true, envelope: true },
      { uid: true },
    )) {
      const messageId = m.envelope?.messageId;
      if (m.uid < moved.uidNextBefore || taken.has(m.uid) || !messageId) continue;
      byMessageId.set(messageId, [...(byMessageId.get(messageId) ?? []), m.uid]);
    }
    for (const uid of unmapped) {
      const messageId = moved.messageIds.get(uid);
      const candidates = messageId ? (byMessageId.get(messageId) ?? []) : [];
      const found = candidates.length > 0 ? Math.max(...candidates) : undefined;
      if (found !== undefined) {
        candidates.splice(candidates.indexOf(found), 1);
        for (const id of idsOf.get(uid) ?? []) results.done(id, at(mailbox.uidValidity, found));
      } else if (moved.copyUid) {
        for (const id of idsOf.get(uid) ?? []) results.gone(id);
      } else {
        throw new ProviderUnavailableError(
          0,
          'MovedNotFound',
          `moved to ${moved.dest}, but the new UID is unknown`,
        );
      }
    }
  } finally {
    lock.release();
  }
}
