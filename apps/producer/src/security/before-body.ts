import type { CanActivate } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { AuthUser } from '../auth/auth-user';
import type { RateLimiter, RateLimitRule } from '../auth/rate-limit/rate-limiter';
import { ApiExceptionFilter, type ApiErrorBody } from '../http/api-exception.filter';

/**
 * Express middleware that runs before any body parser (main.ts), so a request they refuse is answered without
 * its body being read: not parsed, not buffered, not even drained. Each refusal closes the connection
 * (`Connection: close`): Node then stops reading instead of discarding the rest of the body, and a client still
 * reads the answer (it is written before the socket closes). See docs/security.md.
 */

const filter = new ApiExceptionFilter();

/**
 * Answers `err` the way ApiExceptionFilter would (same status, body and Retry-After), then closes the connection;
 * with `{close: false}` the connection stays open and Node discards the rest of the body (for a rest the caller
 * has bounded).
 */
export function refuseBeforeBody(res: Response, err: unknown, opts: { close?: boolean } = {}): void {
  const { status, body, retryAfterSeconds } = filter.toResponse(err);
  if (res.headersSent) return;
  if (retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(retryAfterSeconds));
  if (opts.close !== false) res.setHeader('Connection', 'close');
  res.status(status).json(body);
}

/**
 * The route's own JwtAuthGuard (the very same verification), run before the body is read: no valid access token
 * is 401 `UNAUTHENTICATED` at once. On success `req.user` is set; the guard on the controller checks it again.
 */
export function authenticateBeforeBody(guard: CanActivate, methods: readonly string[]): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!methods.includes(req.method)) return next();
    const context = new ExecutionContextHost([req, res, next]);
    context.setType('http');
    Promise.resolve(guard.canActivate(context)).then(
      (allowed) => (allowed ? next() : refuseBeforeBody(res, new Error('the guard refused'))),
      (err: unknown) => refuseBeforeBody(res, err),
    );
  };
}

export interface UserRateLimitOptions {
  /** the counter's scope in Redis (`rl:{scope:userId}`) */
  scope: string;
  rule: RateLimitRule;
  /** only these methods count */
  methods: readonly string[];
}

/**
 * A per-user fixed window (the same Redis counters as the per-IP limits), after authenticateBeforeBody and still
 * before the body is read. Over the limit: 429 `RATE_LIMITED` with `Retry-After`. A rate-limit store that does
 * not answer is 503 (the request is not let through: these routes write).
 */
export function userRateLimit(limiter: RateLimiter, options: UserRateLimitOptions): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!options.methods.includes(req.method)) return next();
    const user = (req as Request & { user?: AuthUser }).user;
    if (!user) {
      refuseBeforeBody(res, new Error('userRateLimit runs after authenticateBeforeBody'));
      return;
    }
    limiter.consume(options.scope, user.id, options.rule).then(
      ({ count, retryAfterSeconds }) => {
        if (count <= options.rule.limit) return next();
        res.setHeader('Retry-After', String(retryAfterSeconds));
        res.setHeader('Connection', 'close');
        res.status(429).json({
          error: 'RATE_LIMITED',
          message: 'too many requests from this user; try again later',
        } satisfies ApiErrorBody);
      },
      (err: unknown) => refuseBeforeBody(res, err),
    );
  };
}

/**
 * Every route without a body reader of its own: a body that announces (Content-Length) more than `maxBytes` is
 * 413 `PAYLOAD_TOO_LARGE` before a byte of it is read. Without Content-Length (chunked), the bytes are counted
 * as the JSON parser reads them, and the request is answered 413 and closed as soon as they pass `maxBytes`,
 * instead of the parser draining the rest. Requests whose body was already read (the webhook, the commands,
 * the uploads) pass.
 */
export function refuseOversizedBody(maxBytes: number): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.complete || req.readableEnded) return next();
    const declared = req.headers['content-length'];
    if (declared !== undefined) {
      if (Number(declared) > maxBytes) return refuseBeforeBody(res, tooLarge(maxBytes));
      return next();
    }
    if (req.headers['transfer-encoding'] !== undefined) {
      let size = 0;
      const count = (chunk: Buffer): void => {
        size += chunk.length;
        if (size <= maxBytes) return;
        req.off('data', count);
        refuseBeforeBody(res, tooLarge(maxBytes));
      };
      req.on('data', count);
    }
    next();
  };
}

function tooLarge(maxBytes: number): Error {
  // the shape of body-parser's own error, which ApiExceptionFilter maps to 413 PAYLOAD_TOO_LARGE
  return Object.assign(new Error(`the request body is larger than ${maxBytes} bytes`), {
    type: 'entity.too.large',
    status: 413,
    expose: true,
  });
}
