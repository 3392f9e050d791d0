import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { acceptCorrelationId } from './correlation';

/** the header a request id comes in and goes back out in */
export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * A request id from a client or a proxy, when it is one: 1-128 of [A-Za-z0-9._:-] (the correlation id's rule, so
 * neither can smuggle a line break, a quote or a secret-sized blob into a log line), else undefined.
 */
export function acceptRequestId(value: unknown): string | undefined {
  return acceptCorrelationId(value);
}

/**
 * pino-http's `genReqId`: the request's `X-Request-Id` when it is acceptable, else a fresh UUID; either way sent
 * back in the response's `X-Request-Id`.
 */
export function requestIdOf(req: IncomingMessage, res: ServerResponse): string {
  const id = acceptRequestId(req.headers[REQUEST_ID_HEADER]) ?? randomUUID();
  if (!res.headersSent) res.setHeader('X-Request-Id', id);
  return id;
}

const requests = new AsyncLocalStorage<string>();

/** Runs `fn` (the rest of a request's middleware chain) with `requestId` as the current request's id. */
export function runWithRequestId<T>(requestId: string, fn: () => T): T {
  return requests.run(requestId, fn);
}

/** The id of the HTTP request being served now (what every log line of that request carries), else undefined. */
export function currentRequestId(): string | undefined {
  return requests.getStore();
}
