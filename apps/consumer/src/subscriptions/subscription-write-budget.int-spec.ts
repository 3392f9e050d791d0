import type { Cluster } from 'ioredis';
import { createRedisCluster, probeRedisCluster } from '@email-core/cache';
import { currentTestRun } from '@email-core/testing';
import {
  RedisSubscriptionWritePacer,
  SUBSCRIPTION_WRITE_WINDOW_MS,
  SUBSCRIPTION_WRITES_PER_WINDOW,
} from './subscription-write-budget';

describe('RedisSubscriptionWritePacer (the real Redis Cluster)', () => {
  const run = currentTestRun();
  let cluster: Cluster;
  const slotMs = SUBSCRIPTION_WRITE_WINDOW_MS / SUBSCRIPTION_WRITES_PER_WINDOW;

  beforeAll(async () => {
    cluster = createRedisCluster({ nodes: run.redisClusterNodes, keyPrefix: run.redisKeyPrefix });
    await probeRedisCluster(cluster, 5000);
  });
  afterAll(() => cluster.quit());

  it('spaces the writes of two workers one slot apart, so no 20 s span holds more than the budget', async () => {
    const a = new RedisSubscriptionWritePacer(cluster);
    const b = new RedisSubscriptionWritePacer(cluster);
    const t0 = performance.now();
    const done: number[] = [];
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        (i % 2 ? a : b).take().then(() => done.push(performance.now() - t0)),
      ),
    );
    done.sort((x, y) => x - y);
    // 40 writes need 39 slots after the first: never sooner (a few ms of timer slack allowed)
    expect(done[39]).toBeGreaterThanOrEqual(39 * slotMs - 5);
    expect(done[39]).toBeLessThan(39 * slotMs + 2000);
  });

  it('a waiting write gives up when its signal aborts', async () => {
    const pacer = new RedisSubscriptionWritePacer(cluster);
    // slots reserved ahead, so the next take has to wait about two seconds
    const ahead = Array.from({ length: 100 }, () => pacer.take());
    const controller = new AbortController();
    const waiting = pacer.take(controller.signal);
    setTimeout(() => controller.abort(new Error('lock lost')), 200);
    const t0 = performance.now();
    await expect(waiting).rejects.toThrow('lock lost');
    expect(performance.now() - t0).toBeLessThan(1000);
    await Promise.all(ahead);
  });
});
