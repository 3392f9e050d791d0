import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { Cluster } from 'ioredis';
import { accountTag } from '@email-core/cache';
import type { ClusterPermits, Release } from './keyed-semaphore';

/**
 * Takes a permit when fewer than `ARGV[1]` unexpired leases are held: leases are the members of one sorted set
 * per mailbox, scored by when they expire (Redis's own clock, so the processes' clocks do not matter).
 */
const TAKE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0`;

export interface ClusterMailboxPermitsOptions {
  /**
   * How long a permit lives if its holder never gives it back (a crashed process). Longer than any Graph
   * exchange (the clients time out after 60 s); an attachment streamed for longer loses its permit early.
   */
  leaseMs: number;
  /** a Redis answer slower than this (a failover) lets the request go with its process's permit only */
  redisTimeoutMs: number;
  /** a release Redis refused is tried again this many times in all (backing off from 250 ms) */
  releaseAttempts: number;
  /** polling while every permit is taken: from `pollMinMs`, doubling, to `pollMaxMs` (plus jitter) */
  pollMinMs: number;
  pollMaxMs: number;
}

export const DEFAULT_CLUSTER_PERMITS_OPTIONS: ClusterMailboxPermitsOptions = {
  leaseMs: 70_000,
  redisTimeoutMs: 2000,
  releaseAttempts: 6,
  pollMinMs: 5,
  pollMaxMs: 50,
};

const TIMED_OUT = Symbol('timed out');
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Outlook's 4 concurrent requests per app and mailbox, counted across every process of the deployment (the
 * in-process semaphore alone let two consumers, or a consumer and a producer, reach 8). Permits are leases in
 * the Redis Cluster under the account's hash tag (`{acct:<id>}:graph:inflight`). Redis trouble never stops mail:
 * when it fails or is slow, the request goes ahead under its process's own limit, and a warning says so.
 */
export class ClusterMailboxPermits implements ClusterPermits {
  private readonly logger = new Logger('MailboxPermits');
  private readonly options: ClusterMailboxPermitsOptions;
  private lastWarning = 0;

  constructor(
    private readonly redis: Cluster,
    options: Partial<ClusterMailboxPermitsOptions> = {},
  ) {
    this.options = { ...DEFAULT_CLUSTER_PERMITS_OPTIONS, ...options };
  }

  async acquire(key: string, limit: number): Promise<Release> {
    const redisKey = `${accountTag(key)}:graph:inflight`;
    const token = randomUUID();
    let wait = this.options.pollMinMs;
    for (;;) {
      const taken = await this.take(redisKey, token, limit);
      if (taken === 'degraded') return () => undefined;
      if (taken) {
        let released = false;
        return () => {
          if (released) return;
          released = true;
          this.giveBack(redisKey, token, 0);
        };
      }
      await sleep(wait + Math.random() * wait);
      wait = Math.min(wait * 2, this.options.pollMaxMs);
    }
  }

  /** ZREM, tried again for a few seconds if Redis fails (a failover): a lost release would block the mailbox */
  private giveBack(redisKey: string, token: string, attempt: number): void {
    void this.redis.zrem(redisKey, token).catch(() => {
      if (attempt >= this.options.releaseAttempts - 1) return;
      setTimeout(() => this.giveBack(redisKey, token, attempt + 1), 250 * 2 ** attempt).unref();
    });
  }

  private async take(redisKey: string, token: string, limit: number): Promise<boolean | 'degraded'> {
    const call = this.redis.eval(
      TAKE_SCRIPT,
      1,
      redisKey,
      String(limit),
      String(this.options.leaseMs),
      token,
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), this.options.redisTimeoutMs);
    });
    try {
      const answer = await Promise.race([call, timeout]);
      if (answer === TIMED_OUT) {
        // a permit granted after we gave up is handed straight back
        void call.then((late) => (late === 1 ? this.redis.zrem(redisKey, token) : 0)).catch(() => undefined);
        this.warn(`Redis did not answer within ${this.options.redisTimeoutMs} ms`);
        return 'degraded';
      }
      return answer === 1;
    } catch (err) {
      this.warn(err instanceof Error ? err.message : String(err));
      return 'degraded';
    } finally {
      clearTimeout(timer);
    }
  }

  private warn(reason: string): void {
    const now = Date.now();
    if (now - this.lastWarning < 10_000) return;
    this.lastWarning = now;
    this.logger.warn(
      `the cluster-wide Graph limit per mailbox is not enforced for now (${reason}); each process keeps its own`,
    );
  }
}
