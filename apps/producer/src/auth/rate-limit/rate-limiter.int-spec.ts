import type { Cluster } from 'ioredis';
import { CacheKeys, createRedisCluster } from '@email-core/cache';
import { currentTestRun } from '@email-core/testing';
import { RateLimiter } from './rate-limiter';

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

  it('counts across many concurrent callers exactly (one MULTI per event)', async () => {
    const s = subject();
    const counts = await Promise.all(
      Array.from({ length: 50 }, () => limiter.consume('test', s, { limit: 100, windowMs: 60000 })),
    );
    expect(counts.map((c) => c.count).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
  });

  it('keys live under the client prefix with the subject in the hash tag', async () => {
    const s = subject();
    await limiter.consume('signin-ip', s, { limit: 1, windowMs: 60000 });
    expect(CacheKeys.rateLimit('signin-ip', s)).toBe(`rl:{signin-ip:${s}}`);
    expect(await cluster.get(CacheKeys.rateLimit('signin-ip', s))).toBe('1');
  });
});
