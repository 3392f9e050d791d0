import { splitGraphPath } from '../../graph/graph-router';

/** what a subscription `resource` names: a user's whole mailbox, or one folder of it */
export interface SubscriptionResource {
  /** the `{id|userPrincipalName}` of `users/{id}/...`; null for `me/...` */
  user: string | null;
  /** a folder id or well-known name; null for the whole mailbox */
  folder: string | null;
}

/** query options a mail subscription may carry (`$filter`; `$select` belongs to rich notifications) */
const ALLOWED_QUERY = new Set(['$filter', '$select']);

/**
 * Parses the resource forms Outlook accepts for message subscriptions: `me/messages`,
 * `me/mailFolders('{id}')/messages`, `me/mailFolders/{id}/messages`, and the same under `users/{id|upn}/`,
 * with or without a leading slash, segment names in any case, and an optional `?$filter=...`.
 * Returns undefined for anything else.
 */
export function parseSubscriptionResource(resource: string): SubscriptionResource | undefined {
  const q = resource.indexOf('?');
  const path = (q >= 0 ? resource.slice(0, q) : resource).trim();
  if (q >= 0) {
    const query = new URLSearchParams(resource.slice(q + 1));
    for (const key of query.keys()) if (!ALLOWED_QUERY.has(key.toLowerCase())) return undefined;
  }
  let segments = splitGraphPath(path);
  let user: string | null = null;
  const head = segments[0]?.toLowerCase();
  if (head === 'users' && segments.length >= 2) {
    user = segments[1];
    segments = segments.slice(2);
  } else if (head === 'me') {
    segments = segments.slice(1);
  } else {
    return undefined;
  }
  const names = segments.map((s) => s.toLowerCase());
  if (names.length === 1 && names[0] === 'messages') return { user, folder: null };
  if (names.length === 3 && names[0] === 'mailfolders' && names[2] === 'messages' && segments[1]) {
    return { user, folder: segments[1] };
  }
  return undefined;
}
