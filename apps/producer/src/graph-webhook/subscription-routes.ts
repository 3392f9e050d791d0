import type { GraphSubscriptionsRepository, SubscriptionRoute } from '@email-core/database';
import { clientStateMatches } from './client-state';

export type RouteCheck =
  | { ok: true; route: SubscriptionRoute }
  | { ok: false; reason: 'unknownSubscription' | 'clientStateMismatch' };

export interface SubscriptionRoutesOptions {
  /** how long a known subscription is trusted from memory */
  positiveTtlMs?: number;
  /** how long "no such subscription" is remembered (short: a new subscription becomes known quickly) */
  negativeTtlMs?: number;
  /** entries kept at most; the oldest go first */
  maxEntries?: number;
  now?: () => number;
}

interface Entry {
  route: SubscriptionRoute | null;
  expiresAt: number;
}

/**
 * Which account a notification belongs to, and whether its clientState is the one we gave Graph.
 *
 * Lookups go to `GraphSubscriptionsRepository.findRoute` through a small in-process cache, so a burst of
 * notifications costs one query per subscription, not one per item: known subscriptions are kept 30 s,
 * unknown ones 1 s (a subscription saved a moment after Graph first posted for it is not ignored for long), at most 10,000 entries, and concurrent lookups of one id share a single query. A stale
 * positive entry is harmless: a subscription id never changes its clientState (a recreated subscription gets a
 * new id), and an unlinked account's last notifications are pokes the worker ignores. A forged clientState never
 * causes a query: it is compared with the cached hash.
 */
export class SubscriptionRoutes {
  private readonly cache = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<SubscriptionRoute | null>>();
  private readonly positiveTtlMs: number;
  private readonly negativeTtlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(
    private readonly subscriptions: Pick<GraphSubscriptionsRepository, 'findRoute'>,
    opts: SubscriptionRoutesOptions = {},
  ) {
    this.positiveTtlMs = opts.positiveTtlMs ?? 30_000;
    this.negativeTtlMs = opts.negativeTtlMs ?? 1_000;
    this.maxEntries = opts.maxEntries ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  /** Rejects when the database cannot answer (the caller answers 5xx so Graph retries). */
  async check(subscriptionId: string, clientState: string | null | undefined): Promise<RouteCheck> {
    const route = await this.lookup(subscriptionId);
    if (!route) return { ok: false, reason: 'unknownSubscription' };
    if (!clientStateMatches(clientState, route.clientStateHash)) {
      return { ok: false, reason: 'clientStateMismatch' };
    }
    return { ok: true, route };
  }

  private lookup(subscriptionId: string): Promise<SubscriptionRoute | null> | SubscriptionRoute | null {
    const hit = this.cache.get(subscriptionId);
    if (hit) {
      if (hit.expiresAt > this.now()) return hit.route;
      this.cache.delete(subscriptionId);
    }
    let pending = this.inflight.get(subscriptionId);
    if (!pending) {
      pending = this.subscriptions
        .findRoute(subscriptionId)
        .then((route) => {
          this.remember(subscriptionId, route);
          return route;
        })
        .finally(() => this.inflight.delete(subscriptionId));
      this.inflight.set(subscriptionId, pending);
    }
    return pending;
  }

  private remember(subscriptionId: string, route: SubscriptionRoute | null): void {
    const ttl = route ? this.positiveTtlMs : this.negativeTtlMs;
    this.cache.delete(subscriptionId);
    this.cache.set(subscriptionId, { route, expiresAt: this.now() + ttl });
    // a Map iterates in insertion order: the first key is the oldest entry
    while (this.cache.size > this.maxEntries) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
  }

  /** entries currently held (for tests and diagnostics) */
  get size(): number {
    return this.cache.size;
  }
}
