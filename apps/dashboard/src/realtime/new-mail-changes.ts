import type { MailChange } from './events';

/**
 * The ids a `mail.changed` event announces as new mail in `inboxId`: changes of kind `created` (an arrival, told by
 * the worker's own upsert; a move into the inbox is `upserted`, docs/realtime.md), not announced before in this tab. `upserted` (a read state, a flag, a
 * move of a message the mirror held) and `removed` are never new mail; nor is any kind this dashboard does not
 * know, which it only refetches (the contract may gain kinds).
 */
export function newMailIds(
  changes: readonly Pick<MailChange, 'kind' | 'messageId' | 'folderId'>[],
  inboxId: string,
  announced: ReadonlySet<string>,
): string[] {
  const ids = new Set<string>();
  for (const c of changes) {
    if (c.kind === 'created' && c.folderId === inboxId && !announced.has(c.messageId)) ids.add(c.messageId);
  }
  return [...ids];
}
