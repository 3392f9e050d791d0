import { Inject, Injectable } from '@nestjs/common';
import type { Cluster } from 'ioredis';
import { CacheKeys, REDIS_CLUSTER, RedisLock } from '@email-core/cache';

/** How long a crashed holder blocks the others; `withLock` extends it while the work runs. */
const LOCK_TTL_MS = 30_000;

/**
 * The per-account subscription lock (`{acct:<id>}:lock:subscription`), shared by every worker process: whoever
 * holds it is the only one creating, renewing or replacing that account's subscription.
 */
@Injectable()
export class SubscriptionLock {
  private readonly lock: RedisLock;

  constructor(@Inject(REDIS_CLUSTER) redis: Cluster) {
    this.lock = new RedisLock(redis);
  }

  /**
   * Runs `work` holding the account's lock, waiting up to `waitMs` for it (0: one try). `acquired: false`
   * when another worker kept it. `lost` aborts if the lock expired under the work.
   */
  run<T>(
    accountId: string,
    waitMs: number,
    work: (lost: AbortSignal) => Promise<T>,
  ): Promise<{ acquired: true; value: T } | { acquired: false }> {
    return this.lock.withLock(
      CacheKeys.accountLock(accountId, 'subscription'),
      { ttlMs: LOCK_TTL_MS, waitMs, pollMs: 200 },
      work,
    );
  }
}
