import { randomUUID } from 'node:crypto';
import type { ChangeKind, MailboxChange } from '../../store/mailbox-store';
import { isoDate, type LifecycleEvent, type Subscription } from './subscription';

/** one item of a change notification POST (`{"value":[...]}`), as Graph sends it for a message */
export interface ChangeNotificationItem {
  id: string;
  subscriptionId: string;
  subscriptionExpirationDateTime: string;
  changeType: ChangeKind;
  resource: string;
  tenantId: string;
  clientState: string | null;
  resourceData: {
    '@odata.type': '#Microsoft.Graph.Message';
    '@odata.id': string;
    '@odata.etag': string;
    id: string;
  };
}

/** one item of a lifecycle notification POST */
export interface LifecycleNotificationItem {
  subscriptionId: string;
  subscriptionExpirationDateTime: string;
  tenantId: string;
  clientState: string | null;
  lifecycleEvent: LifecycleEvent;
}

export type NotificationItem = ChangeNotificationItem | LifecycleNotificationItem;

export function changeNotification(sub: Subscription, change: MailboxChange): ChangeNotificationItem {
  // the regular id as of the change (a move's `deleted` names the id the message had in the folder it left), or
  // the immutable id, which a move does not change, for a subscription created with IdType="ImmutableId"
  const id = sub.immutableIds ? change.message.immutableId : change.id;
  const resource = `Users/${change.mailbox.userId}/Messages/${id}`;
  return {
    id: randomUUID(),
    subscriptionId: sub.id,
    subscriptionExpirationDateTime: isoDate(sub.expiresAt),
    changeType: change.kind,
    resource,
    tenantId: sub.tenantId,
    clientState: sub.clientState,
    resourceData: {
      '@odata.type': '#Microsoft.Graph.Message',
      '@odata.id': resource,
      '@odata.etag': change.message.etag,
      id,
    },
  };
}

export function lifecycleNotification(sub: Subscription, event: LifecycleEvent): LifecycleNotificationItem {
  return {
    subscriptionId: sub.id,
    subscriptionExpirationDateTime: isoDate(sub.expiresAt),
    tenantId: sub.tenantId,
    clientState: sub.clientState,
    lifecycleEvent: event,
  };
}

/** does this subscription want this change: same mailbox, a wanted change type, and its folder if it has one */
export function matches(sub: Subscription, change: MailboxChange): boolean {
  return (
    sub.mailbox === change.mailbox &&
    sub.changeTypes.has(change.kind) &&
    (sub.folder === null || sub.folder === change.folder)
  );
}
