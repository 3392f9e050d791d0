import type { MailboxReader } from '@email-core/providers';
import { mapLimit } from './concurrency';

/** provider look-ups (`folderOf`) in flight at once (the Graph client caps a mailbox at 4 anyway) */
export const LOOKUP_CONCURRENCY = 4;

/** where a page's messages are now at the provider (null: gone); undefined when they outnumber the look-ups allowed */
export type Locate = (ids: string[]) => Promise<Map<string, string | null> | undefined>;

/**
 * `FolderDeltaRun.locate` for a mailbox: asks the provider which folder each message is in now, at most
 * `maxLookups` per call (beyond, the page is written as listed and the next pass finds where messages are).
 * Shared by rounds (MailboxRound) and re-syncs of a synced mailbox (SyncMailboxHandler).
 */
export function locator(client: Pick<MailboxReader, 'folderOf'>, maxLookups: number): Locate {
  return async (ids) => {
    if (ids.length > maxLookups) return undefined;
    const found = await mapLimit(ids, LOOKUP_CONCURRENCY, (id) => client.folderOf(id));
    return new Map(ids.map((id, i) => [id, found[i] ?? null]));
  };
}
