import { Injectable } from '@nestjs/common';
import type { Counter, Gauge, Histogram } from 'prom-client';
import { MetricsRegistry } from '@email-core/metrics';

/** what a query-cache lookup came to: an entry served, none (Postgres answered and the result was stored), Redis failing */
export type QueryCacheResult = 'hit' | 'miss' | 'error';

/** the label of a request's method: the methods the API serves, anything else `other` (a client picks methods) */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** what became of a webhook notification item: accepted (published), or dropped for a reason */
export type WebhookItemOutcome =
  'accepted' | 'dropped_unknown_subscription' | 'dropped_client_state_mismatch';

/** the webhook's routes (as the HTTP middleware labels them) and their `endpoint` label */
const WEBHOOK_ROUTES = new Map([
  ['/api/v1/graph/notifications', 'notifications'],
  ['/api/v1/graph/lifecycle', 'lifecycle'],
]);

/** the webhook's answers, from 1 ms to Graph's patience (it wants an answer within 3 s, 10 s at most) */
const WEBHOOK_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 3, 10];

/** request durations from 5 ms (a cached read) to 10 s (an upload, a slow Postgres) */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The producer's own metrics, in the process's registry (GET /metrics). Labels are bounded: a route is its
 * pattern (`/api/v1/accounts/:accountId/messages`), never a URL; no account, user or message id anywhere.
 */
@Injectable()
export class ProducerMetrics {
  private readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  private readonly cacheRequests: Counter<'result'>;
  private readonly webhookDuration: Histogram<'endpoint' | 'status_code'>;
  private readonly webhookItems: Counter<'outcome'>;
  private sockets: () => number = () => 0;

  constructor(registry: MetricsRegistry) {
    this.httpDuration = registry.histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP requests answered by the producer, by method, route pattern (unmatched: no route) and status code.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: DURATION_BUCKETS,
    });
    this.cacheRequests = registry.counter({
      name: 'query_cache_requests_total',
      help: 'Mail reads through the Redis query cache, by result: hit, miss (read from Postgres), error (Redis failing).',
      labelNames: ['result'],
    });
    // every result from the start, so rates and ratios exist before the first miss or error
    for (const result of ['hit', 'miss', 'error'] as const) this.cacheRequests.inc({ result }, 0);
    this.webhookDuration = registry.histogram({
      name: 'webhook_request_duration_seconds',
      help: "Graph webhook requests (change notifications, lifecycle events, validation handshakes), from the first byte read to the answer's last byte written, by endpoint and status code.",
      labelNames: ['endpoint', 'status_code'],
      buckets: WEBHOOK_BUCKETS,
    });
    this.webhookItems = registry.counter({
      name: 'webhook_notifications_total',
      help: 'Notification items the Graph webhook received in well-formed requests, by outcome: accepted (subscription and clientState checked), dropped_unknown_subscription, dropped_client_state_mismatch (answered 202 all the same).',
      labelNames: ['outcome'],
    });
    for (const outcome of [
      'accepted',
      'dropped_unknown_subscription',
      'dropped_client_state_mismatch',
    ] as const)
      this.webhookItems.inc({ outcome }, 0);
    const gauge: Gauge = registry.gauge({
      name: 'socket_connections',
      help: "Dashboards' real-time sockets connected to this producer (admitted: origin and token checked).",
      collect: (): void => gauge.set(this.sockets()),
    });
  }

  /** one answered request; `route` is the matched route's pattern or `unmatched` */
  observeRequest(method: string, route: string, statusCode: number, seconds: number): void {
    const m = method.toUpperCase();
    this.httpDuration.observe(
      { method: METHODS.has(m) ? m : 'other', route, status_code: String(statusCode) },
      seconds,
    );
    const endpoint = WEBHOOK_ROUTES.get(route);
    if (endpoint !== undefined && m === 'POST') {
      this.webhookDuration.observe({ endpoint, status_code: String(statusCode) }, seconds);
    }
  }

  /** notification items of one webhook request, by what became of them */
  webhookNotifications(outcome: WebhookItemOutcome, count: number): void {
    if (count > 0) this.webhookItems.inc({ outcome }, count);
  }

  queryCache(result: QueryCacheResult): void {
    this.cacheRequests.inc({ result });
  }

  /** where the socket count is read at each scrape (the real-time gateway's server) */
  countSocketsWith(count: () => number): void {
    this.sockets = count;
  }
}
