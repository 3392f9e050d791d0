import type { Cluster } from 'ioredis';
import { ClusterMailboxPermits } from './cluster-mailbox-permits';

/** just what the permits call on the cluster */
const fakeRedis = (evalImpl: () => Promise<unknown>) => {
  const zrem = jest.fn(() => Promise.resolve(1));
  return { redis: { eval: jest.fn(evalImpl), zrem } as unknown as Cluster, zrem };
};

describe('ClusterMailboxPermits when Redis is in trouble', () => {
  it('lets the request go on its local permit when Redis fails', async () => {
    const { redis } = fakeRedis(() => Promise.reject(new Error('CLUSTERDOWN')));
    const release = await new ClusterMailboxPermits(redis).acquire('acct', 4);
    release();
  });

  it('does not wait for a slow Redis, and hands back a permit granted too late', async () => {
    let grant: (v: number) => void = () => undefined;
    const { redis, zrem } = fakeRedis(() => new Promise((resolve) => (grant = resolve)));
    const permits = new ClusterMailboxPermits(redis, { redisTimeoutMs: 20 });
    const release = await permits.acquire('acct', 4);
    release();
    expect(zrem).not.toHaveBeenCalled();
    grant(1);
    await new Promise((r) => setTimeout(r, 0));
    expect(zrem).toHaveBeenCalledTimes(1);
  });

  it('tries a refused release again until Redis takes it', async () => {
    jest.useFakeTimers();
    try {
      const { redis, zrem } = fakeRedis(() => Promise.resolve(1));
      zrem.mockImplementationOnce(() => Promise.reject(new Error('failover')));
      const release = await new ClusterMailboxPermits(redis).acquire('acct', 4);
      release();
      await jest.advanceTimersByTimeAsync(300);
      expect(zrem).toHaveBeenCalledTimes(2);
      await jest.advanceTimersByTimeAsync(5000);
      expect(zrem).toHaveBeenCalledTimes(2);
    } finally {
      jest.useRealTimers();
    }
  });

  it('waits while every permit is taken, and gives its own back once', async () => {
    const answers = [0, 0, 1];
    const { redis, zrem } = fakeRedis(() => Promise.resolve(answers.shift()));
    const release = await new ClusterMailboxPermits(redis, { pollMinMs: 1, pollMaxMs: 2 }).acquire('acct', 4);
    expect(answers).toEqual([]);
    release();
    release();
    expect(zrem).toHaveBeenCalledTimes(1);
  });
});
