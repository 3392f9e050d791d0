import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Cluster } from 'ioredis';
import { DataSource } from 'typeorm';
import { REDIS_CLUSTER } from '@email-core/cache';
import { recordAccountWrite } from '@email-core/database';

/** How long a failed bump keeps being retried: the query cache's TTL (60 s), after which no stale entry is left. */
const RETRY_FOR_MS = 60_000;
const RETRY_EVERY_MS = 500;

/**
 * Bumps an account's version counter in the Redis Cluster after a committed write, which makes every cached
 * query result of the account unreachable at once, and records the primary's WAL position with it (the account's
 * watermark: the read side reads the primary while the replica has not replayed that far; issue 21).
 *
 * A bump is durable before it counts: the INCR and a `WAIT 1` go to the key's master in one pipeline, so an
 * acknowledged bump is on a replica too and survives that master's failover (without it, a master killed just
 * after the INCR would come back as its replica with the old version, and entries cached under that version
 * before the write would be served again). A bump that fails or is not replicated (Redis down, failing over, no
 * replica up) never fails the write, which is already in Postgres: it is retried in the background every
 * 500 ms until it succeeds or the cache's TTL has passed (then no entry older than the write is left anyway).
 * Extra bumps are harmless: a version only has to change.
 */
@Injectable()
export class AccountCacheVersion implements OnApplicationShutdown {
  private readonly logger = new Logger('AccountCacheVersion');
  /** accounts whose bump is owed, with when it was first owed */
  private readonly owed = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(REDIS_CLUSTER) private readonly redis: Cluster,
    private readonly db: DataSource,
  ) {}

  /** `walPosition`: the primary's WAL position read after the write's commit, when its committer read it */
  async bump(accountId: string, walPosition?: number): Promise<void> {
    const failure = await this.tryBump(accountId, walPosition);
    if (failure === undefined) {
      this.owed.delete(accountId);
      return;
    }
    if (!this.owed.has(accountId)) {
      this.owed.set(accountId, Date.now());
      this.logger.warn(`cache version of account ${accountId} not bumped yet (${failure}); retrying`);
    }
    this.schedule();
  }

  /** accounts whose bump is still owed (for tests and logs) */
  pending(): number {
    return this.owed.size;
  }

  onApplicationShutdown(): void {
    clearTimeout(this.timer);
    if (this.owed.size > 0)
      this.logger.warn(
        `${this.owed.size} cache version bump(s) still owed at shutdown; entries expire by TTL`,
      );
  }

  /** undefined when the bump (and the watermark) is applied and replicated, else why not */
  private tryBump(accountId: string, walPosition?: number): Promise<string | undefined> {
    return recordAccountWrite(this.redis, this.db, accountId, walPosition);
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.retryOwed().finally(() => {
        if (this.owed.size > 0) this.schedule();
      });
    }, RETRY_EVERY_MS);
    this.timer.unref();
  }

  private async retryOwed(): Promise<void> {
    for (const [accountId, since] of [...this.owed]) {
      if ((await this.tryBump(accountId)) === undefined) {
        this.owed.delete(accountId);
        this.logger.log(`cache version of account ${accountId} bumped after ${Date.now() - since} ms`);
      } else if (Date.now() - since > RETRY_FOR_MS) {
        this.owed.delete(accountId);
        this.logger.warn(`cache version of account ${accountId} given up on; its entries expire by TTL`);
      }
    }
  }
}
