import { randomUUID } from 'node:crypto';
import type { Cluster } from 'ioredis';
import { createRedisCluster } from '@email-core/cache';
import { currentTestRun } from '@email-core/testing';
import { ClusterMailboxPermits } from './cluster-mailbox-permits';
import { KeyedSemaphore } from './keyed-semaphore';

const tick = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('ClusterMailboxPermits (Redis Cluster)', () => {
  let redis: Cluster;

  beforeAll(() => {
    const run = currentTestRun();
    redis = createRedisCluster({ nodes: run.redisClusterNodes, keyPrefix: run.redisKeyPrefix });
  });

  afterAll(async () => {
    await redis.quit();
  });

  it('holds one mailbox to 4 requests across two processes, each with its own semaphore', async () => {
    const key = randomUUID();
    const processes = [new KeyedSemaphore(4), new KeyedSemaphore(4)];
    for (const p of processes) p.useCluster(new ClusterMailboxPermits(redis));
    let running = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        processes[i % 2].run(key, async () => {
          running++;
          peak = Math.max(peak, running);
          await tick(5 + (i % 4));
          running--;
        }),
      ),
    );
    expect(peak).toBe(4);
    // every lease was given back
    await expect(redis.zcard(`{acct:${key}}:graph:inflight`)).resolves.toBe(0);
  });

  it('a lease its holder never gave back expires, and another process gets the permit', async () => {
    const key = randomUUID();
    const permits = new ClusterMailboxPermits(redis, { leaseMs: 300 });
    // The first lease expires 300 ms after Redis granted it, and it was granted after `started`: the fifth
    // permit cannot come sooner than 300 ms after `started`, however long the four grants themselves took (a
    // loaded machine once took 180 ms over them, and a clock started after them saw only 122 ms).
    const started = Date.now();
    for (let i = 0; i < 4; i++) await permits.acquire(key, 4); // "crashed" holders: never released
    await expect(redis.zcard(`{acct:${key}}:graph:inflight`)).resolves.toBe(4);
    const release = await permits.acquire(key, 4);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    // the fifth holds a real lease in Redis (not the degraded path that lets a request go without one)
    await expect(redis.zcard(`{acct:${key}}:graph:inflight`)).resolves.toBeLessThanOrEqual(4);
    await expect(redis.zcard(`{acct:${key}}:graph:inflight`)).resolves.toBeGreaterThanOrEqual(1);
    release();
  });
});
