import { randomUUID } from 'node:crypto';
import type { Cluster } from 'ioredis';

/** Deletes the key only while it still holds our token, so a lock that expired and was re-taken is left alone. */
const RELEASE_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export interface HeldLock {
  /** true when the lock was still ours and is now released */
  release(): Promise<boolean>;
}

/**
 * A single-key Redis lock: `SET key token NX PX ttl` to take it, a compare-and-delete script to give it back.
 * The TTL bounds how long a crashed holder can block others; holders must finish well within it.
 */
export class RedisLock {
  constructor(private readonly redis: Cluster) {}

  async tryAcquire(key: string, ttlMs: number): Promise<HeldLock | null> {
    const token = randomUUID();
    const ok = await this.redis.set(key, token, 'PX', ttlMs, 'NX');
    if (ok !== 'OK') return null;
    return {
      release: async () => (await this.redis.eval(RELEASE_SCRIPT, 1, key, token)) === 1,
    };
  }
}
