import type { ChangeKind } from '../../store/mailbox-store';
import type { FolderRecord, Mailbox } from '../../store/model';

export type LifecycleEvent = 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed';
export const LIFECYCLE_EVENTS: readonly LifecycleEvent[] = [
  'reauthorizationRequired',
  'subscriptionRemoved',
  'missed',
];

export type SubscriptionState = 'active' | 'expired' | 'reauthorizationRequired';

/** who calls: delegated tokens reach only the signed-in user's mailbox, and an app sees only its own subscriptions */
export interface Caller {
  mailbox: Mailbox;
  appId: string;
  userId: string;
  tenantId: string;
}

export interface Subscription {
  id: string;
  mailbox: Mailbox;
  /** as the client sent it */
  resource: string;
  /** null: the whole mailbox (`me/messages`) */
  folder: FolderRecord | null;
  changeTypes: ReadonlySet<ChangeKind>;
  clientState: string | null;
  notificationUrl: string;
  lifecycleNotificationUrl: string | null;
  /** epoch ms */
  expiresAt: number;
  applicationId: string;
  creatorId: string;
  tenantId: string;
  latestSupportedTlsVersion: string;
  /**
   * created with `Prefer: IdType="ImmutableId"`: its notifications name messages by their immutable ids
   * (`resource` and `resourceData.id`), as Graph does; otherwise by the regular ids, which change on a move
   */
  immutableIds: boolean;
  /** a `reauthorizationRequired` is pending: cleared by `/reauthorize` or a renewal */
  needsReauthorization: boolean;
  /** the automatic `reauthorizationRequired` has been sent for the current expiry */
  reauthorizationSent: boolean;
  /** change notifications the receiver acknowledged with a 2xx */
  delivered: number;
}

export const isActive = (sub: Subscription, now: number): boolean => sub.expiresAt > now;

export function stateOf(sub: Subscription, now: number): SubscriptionState {
  if (!isActive(sub, now)) return 'expired';
  return sub.needsReauthorization ? 'reauthorizationRequired' : 'active';
}

export const changeTypeOf = (sub: Subscription): string => [...sub.changeTypes].join(',');

export const isoDate = (ms: number): string => new Date(ms).toISOString();

/** the subscription entity as Graph returns it (create, get, list, renew) */
export function toGraphSubscription(sub: Subscription): Record<string, unknown> {
  return {
    id: sub.id,
    resource: sub.resource,
    applicationId: sub.applicationId,
    changeType: changeTypeOf(sub),
    clientState: sub.clientState,
    notificationUrl: sub.notificationUrl,
    notificationQueryOptions: null,
    lifecycleNotificationUrl: sub.lifecycleNotificationUrl,
    expirationDateTime: isoDate(sub.expiresAt),
    creatorId: sub.creatorId,
    includeResourceData: false,
    latestSupportedTlsVersion: sub.latestSupportedTlsVersion,
    encryptionCertificate: null,
    encryptionCertificateId: null,
    notificationUrlAppId: null,
    notificationContentType: null,
  };
}

/** one row of `GET /_emulator/subscriptions` */
export interface SubscriptionSummary {
  id: string;
  address: string;
  applicationId: string;
  resource: string;
  changeType: string;
  clientState: string | null;
  notificationUrl: string;
  lifecycleNotificationUrl: string | null;
  expirationDateTime: string;
  state: SubscriptionState;
  delivered: number;
}

export function toSummary(sub: Subscription, now: number): SubscriptionSummary {
  return {
    id: sub.id,
    address: sub.mailbox.address,
    applicationId: sub.applicationId,
    resource: sub.resource,
    changeType: changeTypeOf(sub),
    clientState: sub.clientState,
    notificationUrl: sub.notificationUrl,
    lifecycleNotificationUrl: sub.lifecycleNotificationUrl,
    expirationDateTime: isoDate(sub.expiresAt),
    state: stateOf(sub, now),
    delivered: sub.delivered,
  };
}
