import { Logger } from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { RateLimiter, RateLimitRule } from '../auth/rate-limit/rate-limiter';
import type { ApiErrorBody } from '../http/api-exception.filter';

export interface IpRateLimitOptions {
  /** the counter's scope in Redis (`rl:{scope:ip}`) */
  scope: string;
  rule: RateLimitRule;
  /** only these methods count (others pass untouched) */
  methods: readonly string[];
  /**
   * When the rate-limit store does not answer: true lets the request through (the webhook: a lost notification
   * costs more than an unthrottled minute), false answers the store's 503.
   */
  failOpen: boolean;
}

/**
 * A per-source-IP fixed window in the Redis Cluster (the same counters as the sign-in limits, shared by every API
 * instance), as an express middleware so it runs before the body is read. Over the limit: 429 `RATE_LIMITED`
 * with `Retry-After`, and the body is not read.
 */
export function ipRateLimit(limiter: RateLimiter, options: IpRateLimitOptions): RequestHandler {
  const logger = new Logger(`RateLimit:${options.scope}`);
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!options.methods.includes(req.method)) return next();
    const ip = req.ip ?? req.socket.remoteAddress ?? 'unknown';
    limiter.consume(options.scope, ip, options.rule).then(
      ({ count, retryAfterSeconds }) => {
        if (count <= options.rule.limit) return next();
        res.setHeader('Retry-After', String(retryAfterSeconds));
        res.status(429).json({
          error: 'RATE_LIMITED',
          message: 'too many requests from this address; try again later',
        } satisfies ApiErrorBody);
      },
      (err: unknown) => {
        if (options.failOpen) {
          logger.warn(`rate-limit store unavailable, request let through: ${String(err)}`);
          return next();
        }
        next(err);
      },
    );
  };
}
