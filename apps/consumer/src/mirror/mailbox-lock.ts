import { Inject, Injectable } from '@nestjs/common';
import type { Cluster } from 'ioredis';
import { CacheKeys, REDIS_CLUSTER, RedisLock } from '@email-core/cache';

/** How long the lock outlives a holder that died; a live holder extends it every third of this. */
export const MAILBOX_LOCK_TTL_MS = 30_000;

/** Another worker held the mailbox for longer than the caller was willing to wait: try the message again later. */
export class MailboxBusyError extends Error {
  constructor(accountId: string, waitedMs: number) {
    super(`MAILBOX_BUSY: mailbox ${accountId} stayed locked for ${waitedMs} ms`);
    this.name = 'MailboxBusyError';
  }
}

/**
 * Serializes every write to one mailbox's mirror across processes (`{acct:<id>}:lock:mailbox` in the Redis
 * Cluster): a sync and a notification round of the same account never interleave their pages, so the change log
 * numbers what each one changed exactly once.
 */
@Injectable()
export class MailboxLock {
  private readonly lock: RedisLock;

  constructor(@Inject(REDIS_CLUSTER) redis: Cluster) {
    this.lock = new RedisLock(redis);
  }

  /**
   * Runs `work` holding the account's mailbox lock, waiting up to `waitMs` for it (else `MailboxBusyError`).
   * `work`'s signal aborts when `signal` does or when the lock was lost (it expired during a long pause), so the
   * work stops at its next page boundary instead of writing without it.
   */
  async run<T>(
    accountId: string,
    waitMs: number,
    signal: AbortSignal,
    work: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    signal.throwIfAborted();
    const held = await this.lock.withLock(
      CacheKeys.accountLock(accountId, 'mailbox'),
      { ttlMs: MAILBOX_LOCK_TTL_MS, waitMs },
      (lost) => work(AbortSignal.any([signal, lost])),
    );
    if (!held.acquired) throw new MailboxBusyError(accountId, waitMs);
    return held.value;
  }
}
