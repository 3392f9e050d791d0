import { Inject, Injectable } from '@nestjs/common';
import type { Cluster } from 'ioredis';
import { CacheKeys, REDIS_CLUSTER } from '@email-core/cache';
import { redisCall } from '../redis-call';

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

/**
 * Exponential back-off of one source's failures against one subject (sign-in: an account and a client address).
 * Every attempt is counted as a failure when it is admitted, before the password is checked, so concurrent
 * guesses cannot all pass a check that runs before any of them has failed; a success clears the source's count.
 */
export interface BackoffRule {
  /** attempts a source may make freely; from this one on, each admitted attempt closes the source for a delay */
  freeAttempts: number;
  /** the first delay; each further attempt doubles it */
  baseDelayMs: number;
  /** the longest delay */
  maxDelayMs: number;
  /** a source's failures are forgotten this long after its last attempt */
  memoryMs: number;
  /**
   * Backstop: once the subject has had this many attempts from all sources in `ceilingWindowMs`, a source that
   * has already failed against it is refused until the window ends; a source with no failure still gets through.
   */
  ceiling: number;
  ceilingWindowMs: number;
}

export type BackoffDecision =
  { admitted: true; attempt: number } | { admitted: false; retryAfterSeconds: number };

/**
 * KEYS: the source's attempt count, the source's closed-until marker, the subject's attempts from every source
 * (one hash tag, so one cluster slot). ARGV: freeAttempts, baseDelayMs, maxDelayMs, memoryMs, ceiling,
 * ceilingWindowMs. Answers {1, attempt} when admitted, {0, ms to wait} when refused (a refusal counts nothing).
 */
const BACKOFF_SCRIPT = `
local closed = redis.call('PTTL', KEYS[2])
if closed > 0 then return {0, closed} end
local prior = tonumber(redis.call('GET', KEYS[1]) or '0')
if prior > 0 then
  local all = tonumber(redis.call('GET', KEYS[3]) or '0')
  if all >= tonumber(ARGV[5]) then
    local left = redis.call('PTTL', KEYS[3])
    if left <= 0 then left = tonumber(ARGV[6]) end
    return {0, left}
  end
end
local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('INCR', KEYS[3])
redis.call('PEXPIRE', KEYS[3], ARGV[6], 'NX')
local free = tonumber(ARGV[1])
if n >= free then
  local delay = tonumber(ARGV[3])
  local k = n - free
  if k < 40 then delay = math.min(delay, tonumber(ARGV[2]) * (2 ^ k)) end
  redis.call('SET', KEYS[2], '1', 'PX', string.format('%d', math.floor(delay)))
end
return {1, n}
`;

interface Counting {
  waiting: Array<{ resolve: (count: RateLimitCount) => void; reject: (err: unknown) => void }>;
}

/**
 * Fixed-window counters in the Redis Cluster (`rl:{scope:subject}`, under the client's key prefix), shared by
 * every API instance. The window starts with its first event: INCRBY, then PEXPIRE NX in the same MULTI, so a
 * counter can never be left without an expiry.
 */
@Injectable()
export class RateLimiter {
  /** per counter (key and window): the events waiting for the MULTI in flight to answer */
  private readonly counting = new Map<string, Counting>();

  constructor(@Inject(REDIS_CLUSTER) private readonly redis: Cluster) {}

  /**
   * Counts one event and reports the window's total (this event's own number in the window).
   *
   * Events of one counter that arrive while its MULTI is in flight are counted together by the next one
   * (`INCRBY n`), and each gets the number it would have got alone (total - n + 1 … total): the same counts,
   * the same window, one round trip for a burst instead of one per event (issue 20: the webhook's per-IP
   * counter was a fifth of the producer's CPU under load). A failed MULTI fails every event it carried.
   */
  consume(scope: string, subject: string, rule: RateLimitRule): Promise<RateLimitCount> {
    const key = CacheKeys.rateLimit(scope, subject);
    const id = `${key}\u0000${rule.windowMs}`;
    return new Promise<RateLimitCount>((resolve, reject) => {
      let counting = this.counting.get(id);
      if (!counting) {
        counting = { waiting: [] };
        this.counting.set(id, counting);
        counting.waiting.push({ resolve, reject });
        void this.count(id, key, rule.windowMs, counting);
      } else counting.waiting.push({ resolve, reject });
    });
  }

  private async count(id: string, key: string, windowMs: number, counting: Counting): Promise<void> {
    while (counting.waiting.length > 0) {
      const events = counting.waiting.splice(0);
      try {
        const replies = await this.run(
          this.redis.multi().incrby(key, events.length).pexpire(key, windowMs, 'NX').pttl(key).exec(),
        );
        const total = Number(reply(replies, 0));
        const retryAfter = retryAfterSeconds(Number(reply(replies, 2)), windowMs);
        events.forEach((e, i) =>
          e.resolve({ count: total - events.length + 1 + i, retryAfterSeconds: retryAfter }),
        );
      } catch (err) {
        for (const e of events) e.reject(err);
      }
    }
    this.counting.delete(id);
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

  /**
   * Admits one attempt of `source` against `subject` under `rule` ({@link BackoffRule}), atomically (one Lua
   * script): the count, the check and the delay it starts are one step, whatever the concurrency.
   */
  async backoff(scope: string, subject: string, source: string, rule: BackoffRule): Promise<BackoffDecision> {
    const keys = backoffKeys(scope, subject, source);
    const answer = await this.run(
      this.redis.eval(
        BACKOFF_SCRIPT,
        3,
        keys.attempts,
        keys.closed,
        keys.all,
        String(rule.freeAttempts),
        String(rule.baseDelayMs),
        String(rule.maxDelayMs),
        String(rule.memoryMs),
        String(rule.ceiling),
        String(rule.ceilingWindowMs),
      ),
    );
    const [admitted, value] = (Array.isArray(answer) ? answer : []).map(Number);
    if (admitted === 1) return { admitted: true, attempt: value ?? 0 };
    return { admitted: false, retryAfterSeconds: retryAfterSeconds(value ?? Number.NaN, rule.baseDelayMs) };
  }

  /** Forgets `source`'s attempts against `subject` (after a success); the subject's backstop count stays. */
  async clearBackoff(scope: string, subject: string, source: string): Promise<void> {
    const keys = backoffKeys(scope, subject, source);
    await this.run(this.redis.del(keys.attempts, keys.closed));
  }

  private run<T>(command: Promise<T>): Promise<T> {
    return redisCall(command, 'rate-limit store');
  }
}

/** `rl:{scope:subject}:…`: the subject in the hash tag, so the script's keys share one cluster slot */
export function backoffKeys(scope: string, subject: string, source: string) {
  const base = CacheKeys.rateLimit(scope, subject);
  return { attempts: `${base}:src:${source}`, closed: `${base}:closed:${source}`, all: `${base}:all` };
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
