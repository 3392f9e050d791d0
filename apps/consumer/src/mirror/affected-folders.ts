import { mapLimit } from './concurrency';
import type { CoalescedRound } from './coalesce';

export interface AffectedFolderSources {
  /** the mirror's folder of each id it holds (ids it does not hold are absent) */
  mirrorFolders(ids: string[]): Promise<Map<string, string>>;
  /** the folder the provider has the message in now, or null when it no longer exists */
  providerFolderOf(id: string): Promise<string | null>;
}

export interface AffectedFolders {
  /** folders whose delta the round must run */
  folders: Set<string>;
  /** of those, the ones the mirror does not know yet (a new folder): refresh the folder tree first */
  unknown: Set<string>;
  /** some notification could not be tied to a folder: run every folder (correctness first) */
  everyFolder: boolean;
  /** provider look-ups made */
  lookups: number;
}

export interface ResolveOptions {
  /** more look-ups than this and the round runs every folder instead (one delta per folder is cheaper) */
  maxLookups: number;
  /** look-ups in flight at once (the adapter may also cap requests per mailbox) */
  concurrency: number;
}

/**
 * The folders a round must read the changes of:
 * - every folder a poke names;
 * - the mirror's folder of every poked message we hold (the changes that apply its update, its removal, or a
 *   move out of it; ids are stable, so a moved message keeps its id);
 * - for `created`, and for `updated` of a message we do not hold, the folder the provider has it in now (a move
 *   shows as `created` in its new folder; a message that is gone again is skipped);
 * - every folder when a change names neither, or when the look-ups would outnumber the folders' reads.
 */
export async function resolveAffectedFolders(
  round: Pick<CoalescedRound, 'changes' | 'unidentified'> & { folders?: ReadonlySet<string> },
  knownFolders: ReadonlySet<string>,
  sources: AffectedFolderSources,
  options: ResolveOptions,
): Promise<AffectedFolders> {
  const result: AffectedFolders = { folders: new Set(), unknown: new Set(), everyFolder: false, lookups: 0 };
  if (round.unidentified > 0) {
    result.everyFolder = true;
    return result;
  }
  for (const folder of round.folders ?? []) {
    result.folders.add(folder);
    if (!knownFolders.has(folder)) result.unknown.add(folder);
  }
  const ids = [...round.changes.keys()];
  const mirror = await sources.mirrorFolders(ids);
  const lookups: string[] = [];
  for (const [id, types] of round.changes) {
    const held = mirror.get(id);
    if (held !== undefined) result.folders.add(held);
    if (types.has('created') || (types.has('updated') && held === undefined)) lookups.push(id);
  }
  if (lookups.length > options.maxLookups) {
    result.everyFolder = true;
    return result;
  }
  const found = await mapLimit(lookups, options.concurrency, (id) => sources.providerFolderOf(id));
  result.lookups = lookups.length;
  for (const folder of found) {
    if (folder === null) continue; // gone again: nothing to fetch, and its old folder (if any) is in already
    result.folders.add(folder);
    if (!knownFolders.has(folder)) result.unknown.add(folder);
  }
  return result;
}
