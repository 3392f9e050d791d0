import { Inject, Injectable } from '@nestjs/common';
import type { Cluster } from 'ioredis';
import { REDIS_CLUSTER } from '@email-core/cache';

/**
 * Graph's subscription service takes 1,000 writes (POST, PATCH, DELETE on /subscriptions) per 20 seconds per app and
 * tenant, and answers 429 past that. We keep to 900: room for Graph's window not lining up with ours and for a
 * write outside this budget (a retry of the SDK's).
 */
export const SUBSCRIPTION_WRITES_PER_WINDOW = 900;
export const SUBSCRIPTION_WRITE_WINDOW_MS = 20_000;

/** Hands out subscription writes no faster than the budget allows. */
export interface SubscriptionWritePacer {
  /** resolves when one more write may go out (at once while under the pace); rejects if `signal` aborts */
  take(signal?: AbortSignal): Promise<void>;
}

export const SUBSCRIPTION_WRITE_PACER = Symbol('SUBSCRIPTION_WRITE_PACER');

/**
 * Reserves the next free slot: slots are `interval` apart on Redis's clock, so no 20 s span ever holds more than
 * the budget, whichever worker writes. Answers how long the caller waits for its slot.
 */
const RESERVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local nextFree = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, nextFree)
redis.call('SET', KEYS[1], tostring(slot + tonumber(ARGV[1])), 'PX', ARGV[2])
return slot - now
`;

/**
 * The deployment's one pace for subscription writes, in the Redis Cluster (`subscriptions:{write-pace}`): every
 * worker's creates, renewals and deletes draw slots from it, so a renewal sweep over ten thousand accounts, or many
 * links at once, stays inside Graph's limit instead of meeting a storm of 429s. One pace for the app across tenants
 * (the tenant of an account is not stored): never over the per-app-and-tenant limit, whatever the tenants.
 */
@Injectable()
export class RedisSubscriptionWritePacer implements SubscriptionWritePacer {
  private readonly intervalMs = SUBSCRIPTION_WRITE_WINDOW_MS / SUBSCRIPTION_WRITES_PER_WINDOW;

  constructor(@Inject(REDIS_CLUSTER) private readonly redis: Cluster) {}

  async take(signal?: AbortSignal): Promise<void> {
    const waitMs = Number(
      await this.redis.eval(
        RESERVE,
        1,
        'subscriptions:{write-pace}',
        String(this.intervalMs),
        String(SUBSCRIPTION_WRITE_WINDOW_MS),
      ),
    );
    signal?.throwIfAborted();
    if (waitMs <= 0) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, waitMs);
      signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          reject(signal.reason as Error);
        },
        { once: true },
      );
    });
  }
}
