import type { MailboxPokeChange } from '@email-core/contracts';
import type { ChangeItem } from './notification-payload';

/** What a change notification's `resource` names, in the provider's own ids. */
export interface ResourceIds {
  messageId?: string;
  folderId?: string;
}

/** the contract's caps (mailboxPokeChangeSchema): a longer id is not kept (the change then names less) */
const MAX_MESSAGE_ID = 512;
const MAX_FOLDER_ID = 1024;

/** `Messages('AAMk=')` or `mailFolders('Inbox')`: an OData key in parentheses ('' is an escaped quote) */
const KEYED_SEGMENT = /^([A-Za-z]+)\('((?:[^']|'')*)'\)$/;

function decode(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** a path segment as a collection name and, when it carries one, its OData key */
function segmentOf(raw: string): { name: string; key?: string } {
  const keyed = KEYED_SEGMENT.exec(raw);
  if (keyed) return { name: keyed[1].toLowerCase(), key: decode(keyed[2].replace(/''/g, "'")) };
  return { name: raw.toLowerCase() };
}

/**
 * Reads a Graph change notification's `resource`, once, at the webhook. The shapes (graph-contract §
 * "Change notification delivery", and the subscription resources Outlook accepts):
 * - `Users/{uid}/Messages/{id}` (what Graph sends for a message subscription), `me/messages/{id}`,
 *   `me/Messages('{id}')`: the message;
 * - `/users/{uid}/mailFolders/{fid}/messages/{id}`, `me/mailFolders('{fid}')/messages('{id}')`: the message and
 *   its folder; `.../mailFolders/{fid}/childFolders/{cid}/messages/{id}`: the innermost folder;
 * - `me/mailFolders/{fid}`, `me/mailFolders('{fid}')/messages`: the folder only;
 * - `me/messages`, anything else: nothing (the change is "somewhere in the mailbox").
 * A message is named only when it ends the path (`messages/{id}/attachments/…` names none, as before), a query
 * (`?$filter=…`) is ignored, ids are URL-decoded, and an id longer than the contract allows is not kept.
 */
export function parseGraphResource(resource: string): ResourceIds {
  const q = resource.indexOf('?');
  const path = (q >= 0 ? resource.slice(0, q) : resource).trim();
  const segments = path.split('/').filter((s) => s.length > 0);
  const ids: ResourceIds = {};
  for (let i = 0; i < segments.length; i++) {
    const { name, key } = segmentOf(segments[i]);
    const next = key === undefined ? segments[i + 1] : undefined;
    const id = key ?? (next === undefined ? undefined : decode(next));
    const last = key === undefined ? i + 1 === segments.length - 1 : i === segments.length - 1;
    if (name === 'messages') {
      if (id !== undefined && last) ids.messageId = id;
    } else if (name === 'mailfolders' || name === 'childfolders') {
      if (id !== undefined) ids.folderId = id;
    } else {
      continue;
    }
    if (key === undefined && next !== undefined) i++;
  }
  const out: ResourceIds = {};
  if (ids.messageId && ids.messageId.length <= MAX_MESSAGE_ID) out.messageId = ids.messageId;
  if (ids.folderId && ids.folderId.length <= MAX_FOLDER_ID) out.folderId = ids.folderId;
  return out;
}

/**
 * One accepted change item as the provider-neutral change of a poke: the message is `resourceData.id` when Graph
 * sent one, else the one `resource` names; the folder is the one `resource` names, if any.
 */
export function pokeChangeOf(item: ChangeItem): MailboxPokeChange {
  const named = parseGraphResource(item.resource);
  const change: MailboxPokeChange = { kind: item.changeType };
  const messageId = item.resourceData?.id ?? named.messageId;
  if (messageId !== undefined) change.messageId = messageId;
  if (named.folderId !== undefined) change.folderId = named.folderId;
  return change;
}
