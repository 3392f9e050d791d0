import type { ProducerMetrics } from './producer-metrics';

/** the parts of Express's request and response the middleware reads */
interface MetricsRequest {
  method: string;
  originalUrl?: string;
  url?: string;
  baseUrl?: string;
  route?: { path?: unknown };
}
interface MetricsResponse {
  statusCode: number;
  once(event: 'finish', listener: () => void): unknown;
}

/** the label of a request no route answered (static files, 404s): one series, whatever the URL */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Times every HTTP request, from the first middleware to the last byte written, into
 * `email_core_http_request_duration_seconds{method, route, status_code}`. The route is the pattern Express
 * matched (`/api/v1/accounts/:accountId/messages`), read when the response finishes; `exactRoutes` are paths
 * answered without Express's router (the Graph webhook's fast lane), labelled by their own path. Anything else
 * is `unmatched`: a URL never becomes a label.
 */
export function httpMetrics(
  metrics: ProducerMetrics,
  opts: { exactRoutes?: readonly string[] } = {},
): (req: MetricsRequest, res: MetricsResponse, next: () => void) => void {
  const exact = new Set(opts.exactRoutes ?? []);
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.observeRequest(req.method, routeOf(req, exact), res.statusCode, seconds);
    });
    next();
  };
}

function routeOf(req: MetricsRequest, exact: ReadonlySet<string>): string {
  const pattern = req.route?.path;
  if (typeof pattern === 'string') return `${req.baseUrl ?? ''}${pattern}`;
  const path = (req.originalUrl ?? req.url ?? '').split('?')[0];
  return exact.has(path) ? path : UNMATCHED_ROUTE;
}
