import type { RouteCheck, SubscriptionRoutes } from './subscription-routes';
import type { WebhookDropLog } from './webhook-drop-log';
import { WebhookErrors } from './webhook-errors';

/**
 * Checks every item's subscription and clientState; returns the accepted ones with their account, and how
 * many were dropped (counted in the drop log). A database failure rejects with the webhook's 503.
 */
export async function verifyItems<T extends { subscriptionId: string; clientState?: string | null }>(
  routes: SubscriptionRoutes,
  drops: WebhookDropLog,
  items: T[],
): Promise<{ accepted: Array<{ item: T; accountId: string }>; dropped: number }> {
  let checks: RouteCheck[];
  try {
    checks = await Promise.all(items.map((i) => routes.check(i.subscriptionId, i.clientState)));
  } catch (err) {
    throw WebhookErrors.unavailable(err);
  }
  const accepted: Array<{ item: T; accountId: string }> = [];
  const counts = { unknownSubscription: 0, clientStateMismatch: 0 };
  checks.forEach((check, i) => {
    if (check.ok) accepted.push({ item: items[i], accountId: check.route.accountId });
    else counts[check.reason] += 1;
  });
  drops.record(counts);
  return { accepted, dropped: counts.unknownSubscription + counts.clientStateMismatch };
}
