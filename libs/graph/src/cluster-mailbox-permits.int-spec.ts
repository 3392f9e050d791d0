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
    for (let i = 0; i < 4; i++) await permits.acquire(key, 4); // "crashed" holders: never released
    const started = Date.now();
    const release = await permits.acquire(key, 4);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    release();
  });
});
