import { KeyedSemaphore, sharedMailboxLimiter, type ClusterPermits } from './keyed-semaphore';

const tick = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('KeyedSemaphore', () => {
  it('never lets more than the limit run at once for one key, and runs everything', async () => {
    const sem = new KeyedSemaphore(4);
    let running = 0;
    let peak = 0;
    let done = 0;
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        sem.run('acct-1', async () => {
          running++;
          peak = Math.max(peak, running);
          await tick(1 + (i % 5));
          running--;
          done++;
        }),
      ),
    );
    expect(peak).toBe(4);
    expect(done).toBe(40);
    expect(sem.stats('acct-1')).toEqual({ active: 0, waiting: 0 });
  });

  it('keeps keys independent: a saturated mailbox does not hold up another', async () => {
    const sem = new KeyedSemaphore(4);
    const blockers: Array<() => void> = [];
    const saturated = Array.from({ length: 6 }, () =>
      sem.run('busy', () => new Promise<void>((resolve) => blockers.push(resolve))),
    );
    await tick(5);
    expect(sem.stats('busy')).toEqual({ active: 4, waiting: 2 });
    // another key gets its four permits at once while "busy" is full
    const other = await Promise.all(Array.from({ length: 4 }, () => sem.acquire('idle')));
    expect(sem.stats('idle')).toEqual({ active: 4, waiting: 0 });
    other.forEach((release) => release());
    for (let released = 0; released < 6; released++) {
      while (blockers.length === 0) await tick(1);
      blockers.shift()?.();
    }
    await Promise.all(saturated);
    expect(sem.stats('busy')).toEqual({ active: 0, waiting: 0 });
  });

  it('serves waiters first in, first out', async () => {
    const sem = new KeyedSemaphore(1);
    const order: number[] = [];
    const first = await sem.acquire('k');
    const waiting = [1, 2, 3].map((n) => sem.run('k', () => Promise.resolve(order.push(n))));
    first();
    await Promise.all(waiting);
    expect(order).toEqual([1, 2, 3]);
  });

  it('ignores a second release of the same permit', async () => {
    const sem = new KeyedSemaphore(2);
    const a = await sem.acquire('k');
    await sem.acquire('k');
    a();
    a();
    expect(sem.stats('k').active).toBe(1);
  });

  it('releases the permit when the work throws', async () => {
    const sem = new KeyedSemaphore(1);
    await expect(sem.run('k', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(sem.stats('k')).toEqual({ active: 0, waiting: 0 });
  });

  it('with a cluster stage, two processes together never exceed the limit', async () => {
    // the deployment-wide permits, as Redis would count them: one pool shared by both "processes"
    let held = 0;
    const pool: ClusterPermits = {
      acquire: async (_key, limit) => {
        while (held >= limit) await tick(1);
        held++;
        let released = false;
        return () => {
          if (!released) {
            released = true;
            held--;
          }
        };
      },
    };
    const processes = [new KeyedSemaphore(4), new KeyedSemaphore(4)];
    for (const p of processes) p.useCluster(pool);
    let running = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        processes[i % 2].run('acct-1', async () => {
          running++;
          peak = Math.max(peak, running);
          await tick(1 + (i % 3));
          running--;
        }),
      ),
    );
    expect(peak).toBe(4);
    expect(held).toBe(0);
    for (const p of processes) expect(p.stats('acct-1')).toEqual({ active: 0, waiting: 0 });
  });

  it('gives the local permit back when the cluster stage fails', async () => {
    const sem = new KeyedSemaphore(1);
    sem.useCluster({ acquire: () => Promise.reject(new Error('no cluster')) });
    await expect(sem.acquire('k')).rejects.toThrow('no cluster');
    expect(sem.stats('k')).toEqual({ active: 0, waiting: 0 });
    sem.useCluster(undefined);
    (await sem.acquire('k'))();
  });

  it('the process-wide limiter allows 4 per mailbox', () => {
    expect(sharedMailboxLimiter.limit).toBe(4);
    expect(() => new KeyedSemaphore(0)).toThrow();
  });
});
