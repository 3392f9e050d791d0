import { Inject, Injectable } from '@nestjs/common';
import type { Cluster } from 'ioredis';
import { CacheKeys, REDIS_CLUSTER } from '@email-core/cache';
import { AppError } from '../../http/app-error';

export interface RateLimitRule {
  limit: number;
  windowMs: number;
}

export interface RateLimitCount {
  /** events counted in the current window */
  count: number;
  /** until the window ends (at least 1 second) */
  retryAfterSeconds: number;
}

/** Redis must answer a rate-limit check within this; otherwise the request fails with 503 rather than hang. */
const REDIS_TIMEOUT_MS = 2000;

/**
 * Fixed-window counters in the Redis Cluster (`rl:{scope:subject}`, under the client's key prefix), shared by
 * every API instance. The window starts with its first event: INCR, then PEXPIRE NX in the same MULTI, so a
 * counter can never be left without an expiry.
 */
@Injectable()
export class RateLimiter {
  constructor(@Inject(REDIS_CLUSTER) private readonly redis: Cluster) {}

  /** Counts one event and reports the window's total. */
  async consume(scope: string, subject: string, rule: RateLimitRule): Promise<RateLimitCount> {
    const key = CacheKeys.rateLimit(scope, subject);
    const replies = await this.run(
      this.redis.multi().incr(key).pexpire(key, rule.windowMs, 'NX').pttl(key).exec(),
    );
    return {
      count: Number(reply(replies, 0)),
      retryAfterSeconds: retryAfterSeconds(Number(reply(replies, 2)), rule.windowMs),
    };
  }

  /** The window's total, without counting. */
  async peek(scope: string, subject: string, rule: RateLimitRule): Promise<RateLimitCount> {
    const key = CacheKeys.rateLimit(scope, subject);
    const replies = await this.run(this.redis.multi().get(key).pttl(key).exec());
    return {
      count: Number(reply(replies, 0) ?? 0),
      retryAfterSeconds: retryAfterSeconds(Number(reply(replies, 1)), rule.windowMs),
    };
  }

  async reset(scope: string, subject: string): Promise<void> {
    await this.run(this.redis.del(CacheKeys.rateLimit(scope, subject)));
  }

  private async run<T>(command: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timed out')), REDIS_TIMEOUT_MS);
      timer.unref();
    });
    try {
      return await Promise.race([command, timeout]);
    } catch (cause) {
      command.catch(() => undefined);
      throw new AppError('SERVICE_UNAVAILABLE', 'unavailable', 'the rate-limit store is unavailable', {
        retryAfterSeconds: 5,
        cause,
      });
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Seconds until a window with `pttl` milliseconds left ends; a key without expiry (-1, -2) waits a full window. */
export function retryAfterSeconds(pttl: number, windowMs: number): number {
  const ms = Number.isFinite(pttl) && pttl > 0 ? pttl : windowMs;
  return Math.max(1, Math.ceil(ms / 1000));
}

function reply(replies: Array<[Error | null, unknown]> | null, index: number): unknown {
  const entry = replies?.[index];
  if (!entry) throw new Error('the MULTI was discarded');
  if (entry[0]) throw entry[0];
  return entry[1];
}
