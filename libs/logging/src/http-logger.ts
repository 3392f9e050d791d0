import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { pinoHttp, type HttpLogger } from 'pino-http';
import { serializeError } from './logger';
import { redactUrl, REDACTED, SECRET_HEADERS } from './redaction';
import { runWithCorrelation } from './correlation';
import { requestIdOf, runWithRequestId } from './request-id';

type Req = IncomingMessage & { id?: string; originalUrl?: string };
type Middleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

export interface HttpLoggingOptions {
  /**
   * the level of a request line that went well (2xx, 3xx, 4xx; 5xx are `error`): `info` for an API, `debug` for
   * the emulator, whose every Graph call would otherwise flood the output
   */
  level?: 'info' | 'debug';
  /** paths polled by machines (`/health`, `/metrics`): their lines at `debug` whatever happens */
  quietPaths?: RegExp;
}

const DEFAULT_QUIET = /^\/(health(\/|$|\?)|metrics(\/|$|\?))/;
const URL_HEADERS = new Set(['referer', 'location', 'content-location']);

/** a request's or response's headers as logged: secrets redacted, URLs with their secret parameters redacted */
export function loggableHeaders(headers: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(headers)) {
    const n = name.toLowerCase();
    if (SECRET_HEADERS.includes(n)) out[n] = REDACTED;
    else if (URL_HEADERS.has(n) && typeof value === 'string') out[n] = redactUrl(value);
    else out[n] = value;
  }
  return out;
}

function pathOf(req: Req): string {
  return redactUrl(req.originalUrl ?? req.url ?? '');
}

/**
 * The HTTP request log of an app: one line per request when its response is finished (`GET /api/v1/x 200 12ms`,
 * with `req` and `res` objects in JSON), every request given an id (the caller's `X-Request-Id` when acceptable,
 * else a UUID; returned in the response's `X-Request-Id`), and the rest of the request served with that id as the
 * current one, so every log line written while serving it carries `reqId`.
 */
export function createHttpLogger(root: Logger, options: HttpLoggingOptions = {}): Middleware {
  const quiet = options.quietPaths ?? DEFAULT_QUIET;
  const okLevel = options.level ?? 'info';
  const http: HttpLogger = pinoHttp({
    logger: root,
    genReqId: (req, res) => requestIdOf(req, res),
    customLogLevel: (req, res, err) => {
      // a probe's 503 (starting, draining, a dependency down) is the health check's answer, not an error here
      if (quiet.test((req as Req).originalUrl ?? req.url ?? '') && !err) return 'debug';
      return err || res.statusCode >= 500 ? 'error' : okLevel;
    },
    customSuccessMessage: (req, res, responseTime) =>
      `${req.method ?? ''} ${pathOf(req as Req)} ${res.statusCode} ${Math.round(responseTime)}ms`,
    customErrorMessage: (req, res) => `${req.method ?? ''} ${pathOf(req as Req)} ${res.statusCode} failed`,
    customSuccessObject: (req, _res, value: Record<string, unknown>) => ({
      ...value,
      reqId: (req as Req).id,
    }),
    // a 5xx without an error of the response's own: pino-http makes one up ("failed with status code 503"), whose
    // stack only shows pino-http; the app logged the real one where it happened
    customErrorObject: (req, res, err: Error, value: Record<string, unknown>) => {
      const { err: _madeUp, ...rest } = value;
      const madeUp = err.message === `failed with status code ${res.statusCode}`;
      return { ...(madeUp ? rest : value), reqId: (req as Req).id };
    },
    serializers: {
      err: serializeError,
      req: (req: {
        method?: string;
        url?: string;
        headers?: Record<string, unknown>;
        remoteAddress?: string;
        raw?: Req;
      }) => ({
        method: req.method,
        url: redactUrl(req.raw?.originalUrl ?? req.url ?? ''),
        headers: loggableHeaders(req.headers ?? {}),
        remoteAddress: req.remoteAddress,
      }),
      res: (res: { statusCode?: number; headers?: Record<string, unknown> }) => ({
        statusCode: res.statusCode,
        headers: loggableHeaders(res.headers ?? {}),
      }),
    },
  });
  return (req, res, next) => {
    // the request's id is also the correlation id of what it starts (commands, outbox rows, Kafka messages), so
    // the producer's own lines of the request carry `correlationId` like every later step
    http(req, res, () => {
      const id = (req as Req).id ?? '';
      runWithRequestId(id, () => (id ? runWithCorrelation(id, () => next()) : next()));
    });
  };
}
