import type { GraphNotification, GraphNotificationItem } from '@email-core/contracts';

export type ChangeType = GraphNotificationItem['changeType'];

/** Every notification of one account in a fetched batch, merged into one round of work. */
export interface CoalescedRound {
  /** each notified message (immutable id) with every change type seen for it, duplicates and order aside */
  changes: Map<string, Set<ChangeType>>;
  /** items that name no message at all (no `resourceData.id`, no message in `resource`) */
  unidentified: number;
  /** when the webhook accepted the earliest of them */
  notifiedAt: string;
  notifications: number;
  items: number;
}

/** `Users/{uid}/Messages/{id}`, `me/messages/{id}`, `Messages('{id}')`: the last path segment after "messages". */
const MESSAGE_IN_RESOURCE = /(?:^|\/)messages(?:\/|\(')([^/?'()]+)(?:'\))?\/?(?:\?.*)?$/i;

/** The message an item names: `resourceData.id` when Graph sent one, else the id in `resource`. */
export function messageIdOf(item: GraphNotificationItem): string | undefined {
  if (item.messageId) return item.messageId;
  const match = MESSAGE_IN_RESOURCE.exec(item.resource);
  if (!match) return undefined;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return match[1];
  }
}

/**
 * Merges an account's notifications into one round. Notifications are pokes (the round runs delta for what they
 * touch), so duplicates and reordering do not matter: only which messages were named, and how.
 */
export function coalesce(notifications: readonly GraphNotification[]): CoalescedRound {
  if (notifications.length === 0) throw new Error('coalesce needs at least one notification');
  const changes = new Map<string, Set<ChangeType>>();
  let unidentified = 0;
  let items = 0;
  let notifiedAt = notifications[0].receivedAt;
  for (const n of notifications) {
    if (Date.parse(n.receivedAt) < Date.parse(notifiedAt)) notifiedAt = n.receivedAt;
    for (const item of n.items) {
      items += 1;
      const id = messageIdOf(item);
      if (id === undefined) {
        unidentified += 1;
        continue;
      }
      const types = changes.get(id) ?? new Set<ChangeType>();
      types.add(item.changeType);
      changes.set(id, types);
    }
  }
  return { changes, unidentified, notifiedAt, notifications: notifications.length, items };
}
