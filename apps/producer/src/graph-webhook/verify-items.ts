import { SubscriptionRoutes, type ResolvedRoutes } from './subscription-routes';
import type { UnknownIdBudget } from './unknown-id-budget';
import type { WebhookDropLog } from './webhook-drop-log';
import { WebhookErrors } from './webhook-errors';

/** what verifying a POST's items needs: the route cache, the unknown-id budget, the drop log */
export interface ItemVerifier {
  routes: SubscriptionRoutes;
  budget: UnknownIdBudget;
  drops: WebhookDropLog;
}

/**
 * Checks every item's subscription and clientState; returns the accepted ones with their account, and how
 * many were dropped (counted in the drop log). All ids of the POST are resolved together (at most one query).
 * A source over its unknown-id budget gets 429 before any lookup, unless every id it names is known from
 * memory; the unknown ids it sends are charged to it. A database failure rejects with the webhook's 503.
 */
export async function verifyItems<T extends { subscriptionId: string; clientState?: string | null }>(
  { routes, budget, drops }: ItemVerifier,
  items: T[],
  source: string,
): Promise<{ accepted: Array<{ item: T; accountId: string }>; dropped: number }> {
  const ids = new Set(items.map((i) => i.subscriptionId));
  const retryAfter = budget.exhausted(source);
  if (retryAfter !== undefined && [...ids].some((id) => !routes.isKnown(id))) {
    throw WebhookErrors.tooManyUnknownSubscriptions(retryAfter);
  }
  let resolved: ResolvedRoutes;
  try {
    resolved = await routes.resolve(ids);
  } catch (err) {
    throw WebhookErrors.unavailable(err);
  }
  let unknownIds = 0;
  for (const route of resolved.values()) if (!route) unknownIds += 1;
  budget.spend(source, unknownIds);

  const accepted: Array<{ item: T; accountId: string }> = [];
  const counts = { unknownSubscription: 0, clientStateMismatch: 0 };
  for (const item of items) {
    const check = SubscriptionRoutes.check(resolved, item.subscriptionId, item.clientState);
    if (check.ok) accepted.push({ item, accountId: check.route.accountId });
    else counts[check.reason] += 1;
  }
  drops.record({ ...counts, accepted: accepted.length });
  return { accepted, dropped: counts.unknownSubscription + counts.clientStateMismatch };
}
