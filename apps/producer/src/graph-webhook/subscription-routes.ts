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
  /** entries kept at most, known and unknown ids counted apart; the oldest go first */
  maxEntries?: number;
  now?: () => number;
}

interface Entry {
  route: SubscriptionRoute | null;
  expiresAt: number;
}

/** ids one query asks for at most (a batch started below this takes a whole POST's ids) */
const MAX_IDS_PER_QUERY = 5_000;

interface QueuedBatch {
  ids: Set<string>;
  result: Promise<Map<string, SubscriptionRoute>>;
}

/** the routes of a set of ids: null for an id we do not know */
export type ResolvedRoutes = Map<string, SubscriptionRoute | null>;

/**
 * Which account a notification belongs to, and whether its clientState is the one we gave Graph.
 *
 * A POST's ids are resolved together (`resolve`): whatever the in-process cache does not hold is fetched with
 * ONE `GraphSubscriptionsRepository.findRoutes` query (shared with whatever else asked in the same turn of the
 * event loop), so a POST of 1,000 made-up ids costs one round trip, not 1,000 (issue 16: 10,000 lookups from
 * one anonymous POST starved the 10-connection pool). Known subscriptions are kept 30 s, unknown ids 1 s (a
 * subscription saved a moment after Graph first posted for it is not ignored for long), each kind in its own map
 * of at most 10,000 entries, so a flood of made-up ids never
 * evicts the real subscriptions; an id another request is already fetching is awaited, not fetched again.
 * A stale positive entry is harmless: a subscription id never changes its clientState (a recreated
 * subscription gets a new id), and an unlinked account's last notifications are pokes the worker ignores.
 * A forged clientState never causes a query: it is compared with the cached hash.
 */
export class SubscriptionRoutes {
  private readonly known = new Map<string, Entry>();
  private readonly unknown = new Map<string, Entry>();
  /** ids being fetched, and the batch that fetches them */
  private readonly inflight = new Map<string, Promise<Map<string, SubscriptionRoute>>>();
  private queued: QueuedBatch | undefined;
  private readonly positiveTtlMs: number;
  private readonly negativeTtlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(
    private readonly subscriptions: Pick<GraphSubscriptionsRepository, 'findRoutes'>,
    opts: SubscriptionRoutesOptions = {},
  ) {
    this.positiveTtlMs = opts.positiveTtlMs ?? 30_000;
    this.negativeTtlMs = opts.negativeTtlMs ?? 1_000;
    this.maxEntries = opts.maxEntries ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  /** Is this id a subscription we hold, from memory alone (no query)? */
  isKnown(subscriptionId: string): boolean {
    return this.cached(subscriptionId)?.route != null;
  }

  /**
   * The routes of `subscriptionIds`, with at most one query for the ids the cache does not hold. Rejects when
   * the database cannot answer (the caller answers 5xx so Graph retries); nothing is remembered then.
   */
  async resolve(subscriptionIds: Iterable<string>): Promise<ResolvedRoutes> {
    const resolved: ResolvedRoutes = new Map();
    const waiting = new Map<Promise<Map<string, SubscriptionRoute>>, string[]>();
    const missing: string[] = [];
    for (const id of new Set(subscriptionIds)) {
      const hit = this.cached(id);
      if (hit) resolved.set(id, hit.route);
      else {
        const pending = this.inflight.get(id);
        if (!pending) missing.push(id);
        else {
          const ids = waiting.get(pending);
          if (ids) ids.push(id);
          else waiting.set(pending, [id]);
        }
      }
    }
    if (missing.length > 0) {
      const batch = this.load(missing);
      for (const id of missing) this.inflight.set(id, batch);
      const ids = waiting.get(batch);
      if (ids) ids.push(...missing);
      else waiting.set(batch, missing);
    }
    await Promise.all(
      [...waiting].map(async ([batch, ids]) => {
        const found = await batch;
        for (const id of ids) resolved.set(id, found.get(id) ?? null);
      }),
    );
    return resolved;
  }

  /** One item against resolved routes: its account, or why it is dropped. */
  static check(
    resolved: ResolvedRoutes,
    subscriptionId: string,
    clientState: string | null | undefined,
  ): RouteCheck {
    const route = resolved.get(subscriptionId);
    if (!route) return { ok: false, reason: 'unknownSubscription' };
    if (!clientStateMatches(clientState, route.clientStateHash)) {
      return { ok: false, reason: 'clientStateMismatch' };
    }
    return { ok: true, route };
  }

  /**
   * Ids asked for in the same turn of the event loop share one query (both commands of a mixed POST, and
   * concurrent POSTs under a flood), up to MAX_IDS_PER_QUERY ids each.
   */
  private load(ids: string[]): Promise<Map<string, SubscriptionRoute>> {
    if (!this.queued || this.queued.ids.size >= MAX_IDS_PER_QUERY) {
      const batchIds = new Set<string>();
      const result = new Promise<Map<string, SubscriptionRoute>>((resolve, reject) => {
        setImmediate(() => {
          if (this.queued?.ids === batchIds) this.queued = undefined;
          this.subscriptions.findRoutes([...batchIds]).then(resolve, reject);
        });
      });
      // remembered once the query answers, forgotten from the in-flight list either way
      result.then(
        (found) => {
          for (const id of batchIds) this.remember(id, found.get(id) ?? null);
          for (const id of batchIds) if (this.inflight.get(id) === result) this.inflight.delete(id);
        },
        () => {
          for (const id of batchIds) if (this.inflight.get(id) === result) this.inflight.delete(id);
        },
      );
      this.queued = { ids: batchIds, result };
    }
    for (const id of ids) this.queued.ids.add(id);
    return this.queued.result;
  }

  private cached(subscriptionId: string): Entry | undefined {
    for (const map of [this.known, this.unknown]) {
      const hit = map.get(subscriptionId);
      if (!hit) continue;
      if (hit.expiresAt > this.now()) return hit;
      map.delete(subscriptionId);
    }
    return undefined;
  }

  private remember(subscriptionId: string, route: SubscriptionRoute | null): void {
    const [map, ttl] = route ? [this.known, this.positiveTtlMs] : [this.unknown, this.negativeTtlMs];
    (route ? this.unknown : this.known).delete(subscriptionId);
    map.delete(subscriptionId);
    map.set(subscriptionId, { route, expiresAt: this.now() + ttl });
    if (map.size > this.maxEntries) trimOldest(map, Math.floor(this.maxEntries * 0.9));
  }

  /** entries currently held, known and unknown (for tests and diagnostics) */
  get size(): number {
    return this.known.size + this.unknown.size;
  }
}

/**
 * Drops a Map's oldest entries (a Map iterates in insertion order) down to `target`, in one pass. Evicting a
 * tenth at a time instead of one entry per insert matters: V8 keeps deleted entries as holes until it rehashes,
 * and every fresh `keys()` iterator walks them again (one eviction per insert made a flood of made-up ids
 * quadratic: 0.7 s of CPU in a 4 s test).
 */
export function trimOldest(map: Map<string, unknown>, target: number): void {
  for (const key of map.keys()) {
    if (map.size <= target) break;
    map.delete(key);
  }
}
