import type { Cluster } from 'ioredis';
import { CacheKeys, createRedisCluster } from '@email-core/cache';
import { currentTestRun } from '@email-core/testing';
import { backoffKeys, RateLimiter, type BackoffRule } from './rate-limiter';

describe('RateLimiter (real Redis Cluster)', () => {
  const run = currentTestRun();
  let cluster: Cluster;
  let limiter: RateLimiter;
  const subject = () => `s-${Math.random().toString(36).slice(2)}`;

  beforeAll(() => {
    cluster = createRedisCluster({ nodes: run.redisClusterNodes, keyPrefix: run.redisKeyPrefix });
    limiter = new RateLimiter(cluster);
  });
  afterAll(() => cluster.quit());

  it('counts events in a window that starts with the first and expires on its own', async () => {
    const s = subject();
    const rule = { limit: 3, windowMs: 60000 };
    expect((await limiter.consume('test', s, rule)).count).toBe(1);
    expect((await limiter.consume('test', s, rule)).count).toBe(2);
    const third = await limiter.consume('test', s, rule);
    expect(third.count).toBe(3);
    expect(third.retryAfterSeconds).toBeGreaterThan(55);
    expect(third.retryAfterSeconds).toBeLessThanOrEqual(60);
    // later events do not push the window's end out
    const ttl = await cluster.pttl(CacheKeys.rateLimit('test', s));
    expect(ttl).toBeGreaterThan(55000);
    expect(ttl).toBeLessThanOrEqual(60000);
  });

  it('peeks without counting, resets, and starts again after the window', async () => {
    const s = subject();
    const rule = { limit: 3, windowMs: 300 };
    expect((await limiter.peek('test', s, rule)).count).toBe(0);
    await limiter.consume('test', s, rule);
    expect((await limiter.peek('test', s, rule)).count).toBe(1);
    expect((await limiter.peek('test', s, rule)).count).toBe(1);
    await limiter.reset('test', s);
    expect((await limiter.peek('test', s, rule)).count).toBe(0);
    await limiter.consume('test', s, rule);
    await new Promise((r) => setTimeout(r, 400));
    expect((await limiter.consume('test', s, rule)).count).toBe(1);
  });

  it('counts across many concurrent callers exactly, each its own number, a burst in few MULTIs', async () => {
    const s = subject();
    const multi = jest.spyOn(cluster, 'multi');
    try {
      const counts = await Promise.all(
        Array.from({ length: 50 }, () => limiter.consume('test', s, { limit: 100, windowMs: 60000 })),
      );
      expect(counts.map((c) => c.count).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 50 }, (_, i) => i + 1),
      );
      // the first event alone, the 49 that arrived while it was in flight together
      expect(multi).toHaveBeenCalledTimes(2);
    } finally {
      multi.mockRestore();
    }
    expect(await cluster.get(CacheKeys.rateLimit('test', s))).toBe('50');
    expect((await limiter.consume('test', s, { limit: 100, windowMs: 60000 })).count).toBe(51);
  });

  it('fails every event of a MULTI that fails, and counts the next ones afresh', async () => {
    const s = subject();
    const multi = jest.spyOn(cluster, 'multi').mockImplementationOnce(() => {
      throw new Error('store down');
    });
    try {
      const results = await Promise.allSettled(
        Array.from({ length: 3 }, () => limiter.consume('test', s, { limit: 100, windowMs: 60000 })),
      );
      // the first MULTI (the first event) failed; the two that waited behind it were counted by the next
      expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
      expect(
        results.flatMap((r) => (r.status === 'fulfilled' ? [r.value.count] : [])).sort((a, b) => a - b),
      ).toEqual([1, 2]);
    } finally {
      multi.mockRestore();
    }
  });

  it('keys live under the client prefix with the subject in the hash tag', async () => {
    const s = subject();
    await limiter.consume('signin-ip', s, { limit: 1, windowMs: 60000 });
    expect(CacheKeys.rateLimit('signin-ip', s)).toBe(`rl:{signin-ip:${s}}`);
    expect(await cluster.get(CacheKeys.rateLimit('signin-ip', s))).toBe('1');
  });

  describe('backoff (one Lua script per attempt)', () => {
    const rule: BackoffRule = {
      freeAttempts: 5,
      baseDelayMs: 1000,
      maxDelayMs: 16000,
      memoryMs: 60000,
      ceiling: 1000,
      ceilingWindowMs: 60000,
    };

    it('8 concurrent attempts from one source: exactly the 5 free ones are admitted, the rest refused', async () => {
      const s = subject();
      const answers = await Promise.all(
        Array.from({ length: 8 }, () => limiter.backoff('test-bo', s, '10.0.0.1', rule)),
      );
      expect(answers.filter((a) => a.admitted)).toHaveLength(5);
      expect(answers.filter((a) => !a.admitted)).toHaveLength(3);
      for (const a of answers) if (!a.admitted) expect(a.retryAfterSeconds).toBe(1);
    });

    it('each further attempt doubles the delay, up to the cap; another source is not affected', async () => {
      const s = subject();
      const keys = backoffKeys('test-bo', s, '10.0.0.1');
      const delays: number[] = [];
      for (let attempt = 1; attempt <= 10; attempt++) {
        await cluster.del(keys.closed); // as if the previous delay had run out
        expect(await limiter.backoff('test-bo', s, '10.0.0.1', rule)).toEqual({ admitted: true, attempt });
        delays.push(await cluster.pttl(keys.closed));
      }
      // attempts 1-4 start no delay (-2: no key); then 1 s, 2 s, 4 s, 8 s, 16 s (the cap), 16 s
      expect(delays.slice(0, 4)).toEqual([-2, -2, -2, -2]);
      const seconds = delays.slice(4).map((ms) => Math.ceil(ms / 1000));
      expect(seconds).toEqual([1, 2, 4, 8, 16, 16]);
      const refused = await limiter.backoff('test-bo', s, '10.0.0.1', rule);
      expect(refused).toEqual({ admitted: false, retryAfterSeconds: 16 });
      expect(await limiter.backoff('test-bo', s, '10.0.0.2', rule)).toEqual({ admitted: true, attempt: 1 });
    });

    it('clearBackoff forgets that source only', async () => {
      const s = subject();
      for (let i = 0; i < 5; i++) await limiter.backoff('test-bo', s, '10.0.0.1', rule);
      expect((await limiter.backoff('test-bo', s, '10.0.0.1', rule)).admitted).toBe(false);
      await limiter.clearBackoff('test-bo', s, '10.0.0.1');
      expect(await limiter.backoff('test-bo', s, '10.0.0.1', rule)).toEqual({ admitted: true, attempt: 1 });
    });

    it('past the ceiling, a source that failed waits for the window; a source without a failure gets through', async () => {
      const s = subject();
      const low = { ...rule, ceiling: 3 };
      for (const ip of ['10.1.0.1', '10.1.0.2', '10.1.0.3'])
        expect((await limiter.backoff('test-bo', s, ip, low)).admitted).toBe(true);
      const failed = await limiter.backoff('test-bo', s, '10.1.0.1', low);
      expect(failed.admitted).toBe(false);
      expect(failed.admitted === false && failed.retryAfterSeconds).toBeGreaterThan(55);
      expect(await limiter.backoff('test-bo', s, '10.9.9.9', low)).toEqual({ admitted: true, attempt: 1 });
    });
  });
});
