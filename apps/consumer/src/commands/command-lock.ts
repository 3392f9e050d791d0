import { Inject, Injectable } from '@nestjs/common';
import type { Cluster } from 'ioredis';
import { CacheKeys, REDIS_CLUSTER, RedisLock } from '@email-core/cache';
import { COMMAND_SETTINGS, type CommandSettings } from './commands.settings';

const COMMAND_LOCK_TTL_MS = 30_000;

/** Another worker is still executing the command (a redelivery during a rebalance): try again later. */
export class CommandBusyError extends Error {
  constructor(commandId: string, waitedMs: number) {
    super(`COMMAND_BUSY: command ${commandId} stayed locked for ${waitedMs} ms`);
    this.name = 'CommandBusyError';
  }
}

/**
 * One executor per command across processes (`{acct:<id>}:lock:command:<id>` in the Redis Cluster). The status
 * in Postgres says what ran; the lock keeps a delivery from reading `sent` while another worker is still in the
 * middle of it (which, for a send, would wrongly end the command `OUTCOME_UNKNOWN`). A worker that dies holding
 * it blocks the command for at most the TTL.
 */
@Injectable()
export class CommandLock {
  private readonly lock: RedisLock;

  constructor(
    @Inject(REDIS_CLUSTER) redis: Cluster,
    @Inject(COMMAND_SETTINGS) private readonly settings: CommandSettings,
  ) {
    this.lock = new RedisLock(redis);
  }

  async run<T>(
    accountId: string,
    commandId: string,
    signal: AbortSignal,
    work: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    return this.hold(accountId, `command:${commandId}`, commandId, signal, work);
  }

  /**
   * One command of a draft at a time across processes (`{acct:<id>}:lock:draft:<key>`): two saves of the same
   * draft never both find it missing and create two (docs/mail-actions.md#drafts).
   */
  async draft<T>(
    accountId: string,
    draftKey: string,
    commandId: string,
    signal: AbortSignal,
    work: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    return this.hold(accountId, `draft:${draftKey}`, commandId, signal, work);
  }

  private async hold<T>(
    accountId: string,
    purpose: string,
    commandId: string,
    signal: AbortSignal,
    work: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    signal.throwIfAborted();
    const held = await this.lock.withLock(
      CacheKeys.accountLock(accountId, purpose),
      { ttlMs: COMMAND_LOCK_TTL_MS, waitMs: this.settings.lockWaitMs },
      (lost) => work(AbortSignal.any([signal, lost])),
    );
    if (!held.acquired) throw new CommandBusyError(commandId, this.settings.lockWaitMs);
    return held.value;
  }
}
