import type { GraphNotificationItem, MailboxPoke, NotificationWork } from '@email-core/contracts';

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
 * Until the webhook publishes pokes itself: a `graph.notification` (or the old reconciliation's
 * `mailbox.reconcile`) still on the old topic, as the `mailbox.poke` it means.
 */
export function pokeOfNotificationWork(work: NotificationWork): MailboxPoke {
  if (work.type === 'mailbox.reconcile') {
    return {
      type: 'mailbox.poke',
      v: 1,
      accountId: work.accountId,
      source: 'reconcile',
      changes: [],
      everyFolder: true,
      receivedAt: work.requestedAt,
    };
  }
  return {
    type: 'mailbox.poke',
    v: 1,
    accountId: work.accountId,
    source: 'webhook',
    changes: work.items.map((item) => {
      const messageId = messageIdOf(item);
      return messageId === undefined ? { kind: item.changeType } : { kind: item.changeType, messageId };
    }),
    receivedAt: work.receivedAt,
  };
}
