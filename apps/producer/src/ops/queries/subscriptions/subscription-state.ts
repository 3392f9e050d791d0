/** Under this long before expiry a subscription counts as expiring soon: its renewal (due hours earlier) is late. */
export const EXPIRING_SOON_MS = 60 * 60 * 1000;

export const SUBSCRIPTION_STATES = ['active', 'expiring_soon', 'expired'] as const;
export type SubscriptionState = (typeof SUBSCRIPTION_STATES)[number];

/**
 * `expired` once Graph no longer delivers for it; `expiring_soon` within the last hour (the consumer renews
 * subscriptions 12 hours, or half their lifetime, before they expire, so one this close was not renewed);
 * otherwise `active`.
 */
export function subscriptionState(expiresAt: Date, now: Date): SubscriptionState {
  const left = expiresAt.getTime() - now.getTime();
  if (left <= 0) return 'expired';
  return left < EXPIRING_SOON_MS ? 'expiring_soon' : 'active';
}
