import { randomUUID } from 'node:crypto';
import type { Cluster } from 'ioredis';

/** Deletes the key only while it still holds our token, so a lock that expired and was re-taken is left alone. */
const RELEASE_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
/** Pushes the expiry out only while the key still holds our token. */
const EXTEND_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

export interface HeldLock {
  /** true when the lock was still ours and is now released */
  release(): Promise<boolean>;
  /** true when the lock was still ours and now expires `ttlMs` from now */
  extend(ttlMs: number): Promise<boolean>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * A single-key Redis lock: `SET key token NX PX ttl` to take it, a compare-and-delete script to give it back.
 * The TTL bounds how long a crashed holder can block others; holders must finish well within it, or extend it
 * (`withLock` does so in the background while its work runs).
 */
export class RedisLock {
  constructor(private readonly redis: Cluster) {}

  async tryAcquire(key: string, ttlMs: number): Promise<HeldLock | null> {
    const token = randomUUID();
    const ok = await this.redis.set(key, token, 'PX', ttlMs, 'NX');
    if (ok !== 'OK') return null;
    return {
      release: async () => (await this.redis.eval(RELEASE_SCRIPT, 1, key, token)) === 1,
      extend: async (ms: number) => (await this.redis.eval(EXTEND_SCRIPT, 1, key, token, String(ms))) === 1,
    };
  }

  /** Tries every `pollMs` until the lock is ours or `waitMs` has passed (then null). */
  async acquire(key: string, ttlMs: number, waitMs: number, pollMs = 100): Promise<HeldLock | null> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const held = await this.tryAcquire(key, ttlMs);
      if (held || Date.now() >= deadline) return held;
      await sleep(Math.min(pollMs, Math.max(1, deadline - Date.now())));
    }
  }

  /**
   * Runs `work` while holding the lock, extending it every `ttlMs / 3` so long work keeps it; returns
   * `{ acquired: false }` when it could not be taken within `waitMs`. If an extension finds the lock lost (it
   * expired, e.g. after a long pause), `lost` is aborted so the work can stop before it writes more.
   */
  async withLock<T>(
    key: string,
    opts: { ttlMs: number; waitMs: number; pollMs?: number },
    work: (lost: AbortSignal) => Promise<T>,
  ): Promise<{ acquired: true; value: T } | { acquired: false }> {
    const held = await this.acquire(key, opts.ttlMs, opts.waitMs, opts.pollMs);
    if (!held) return { acquired: false };
    const lost = new AbortController();
    const timer = setInterval(
      () => {
        held.extend(opts.ttlMs).then(
          (ok) => {
            if (!ok) lost.abort(new Error(`lock ${key} lost`));
          },
          () => undefined, // a failed extension is retried at the next tick; the TTL still covers us
        );
      },
      Math.max(50, Math.floor(opts.ttlMs / 3)),
    );
    timer.unref();
    try {
      return { acquired: true, value: await work(lost.signal) };
    } finally {
      clearInterval(timer);
      await held.release().catch(() => false);
    }
  }
}
