import calculateSlot from 'cluster-key-slot';
import { Redis, type Cluster } from 'ioredis';
import { currentTestRun } from '@email-core/testing';
import { CacheKeys } from './keys';
import { createRedisCluster } from './redis-cluster';
import { probeRedisCluster } from './redis-probe';

describe('Redis Cluster (real six-node cluster)', () => {
  const run = currentTestRun();
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = createRedisCluster({ nodes: run.redisClusterNodes, keyPrefix: run.redisKeyPrefix });
    await probeRedisCluster(cluster, 5000);
  });
  afterAll(() => cluster.quit());

  it('has three masters covering all 16384 slots', async () => {
    const info = await probeRedisCluster(cluster, 2000);
    expect(info).toEqual({ state: 'ok', masters: 3, slotsOk: 16384 });
  });

  it('writes keys that land on different masters, and each master really holds its own', async () => {
    const ranges = await cluster.cluster('SLOTS');
    const ownerOf = (slot: number) => {
      const r = ranges.find(([from, to]) => slot >= from && slot <= to);
      if (!r) throw new Error(`slot ${slot} has no owner`);
      const [host, port] = r[2];
      return `${host}:${port}`;
    };
    // Pick one account per master: the hash tag decides the slot, the prefix does not.
    const chosen = new Map<string, string>();
    for (let i = 0; chosen.size < 3 && i < 1000; i++) {
      const key = CacheKeys.accountVersion(`acct-${i}`);
      const owner = ownerOf(calculateSlot(run.redisKeyPrefix + key));
      if (!chosen.has(owner)) chosen.set(owner, key);
    }
    expect(chosen.size).toBe(3);

    for (const [owner, key] of chosen) {
      await cluster.set(key, owner, 'EX', 300);
      expect(await cluster.get(key)).toBe(owner);

      // Ask the owning master directly (no cluster redirection): the key is stored there and nowhere else.
      const [host, port] = owner.split(':');
      const direct = new Redis({ host, port: Number(port), lazyConnect: true });
      await direct.connect();
      try {
        expect(await direct.call('CLUSTER', 'KEYSLOT', run.redisKeyPrefix + key)).toBe(
          calculateSlot(run.redisKeyPrefix + key),
        );
        expect(await direct.get(run.redisKeyPrefix + key)).toBe(owner);
      } finally {
        direct.disconnect();
      }
    }
  });

  it("keeps one account's keys in one slot, so MULTI across them is legal", async () => {
    const acct = `multi-${run.id}`;
    const result = await cluster
      .multi()
      .incr(CacheKeys.accountVersion(acct))
      .set(CacheKeys.query(acct, 1, 'h'), 'cached', 'EX', 60)
      .exec();
    expect(result?.map(([err]) => err)).toEqual([null, null]);
    expect(await cluster.get(CacheKeys.query(acct, 1, 'h'))).toBe('cached');
  });
});
