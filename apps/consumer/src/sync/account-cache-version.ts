import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Cluster } from 'ioredis';
import { CacheKeys, REDIS_CLUSTER } from '@email-core/cache';

/**
 * Bumps an account's version counter in the Redis Cluster after a committed write, which makes every cached
 * query result of the account unreachable at once. Redis trouble is logged, not thrown: the write is already
 * durable, cached entries expire by TTL anyway, and the sync bumps once more when it completes.
 */
@Injectable()
export class AccountCacheVersion {
  private readonly logger = new Logger('AccountCacheVersion');

  constructor(@Inject(REDIS_CLUSTER) private readonly redis: Cluster) {}

  async bump(accountId: string): Promise<void> {
    try {
      await this.redis.incr(CacheKeys.accountVersion(accountId));
    } catch (err) {
      this.logger.warn(`cache version of account ${accountId} not bumped: ${(err as Error).message}`);
    }
  }
}
