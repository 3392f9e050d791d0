import { forEachLimit, SyncProgress, type SyncProgressSnapshot } from './sync-progress';

describe('SyncProgress', () => {
  it('reports at most every N committed pages, counting messages and finished folders', async () => {
    const reports: SyncProgressSnapshot[] = [];
    const progress = new SyncProgress(3, 2, (s) => Promise.resolve(void reports.push(s)));
    await progress.pageCommitted(10, false);
    expect(reports).toEqual([]);
    await progress.pageCommitted(5, true);
    await progress.pageCommitted(7, false);
    await progress.pageCommitted(0, true);
    expect(reports).toEqual([
      { foldersTotal: 3, foldersDone: 1, messagesSynced: 15 },
      { foldersTotal: 3, foldersDone: 2, messagesSynced: 22 },
    ]);
  });
});

describe('forEachLimit', () => {
  const never = new AbortController().signal;

  it('never runs more than the limit at once, and runs every item', async () => {
    let running = 0;
    let peak = 0;
    const done: number[] = [];
    await forEachLimit([1, 2, 3, 4, 5, 6, 7], 3, never, async (n) => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5));
      running -= 1;
      done.push(n);
    });
    expect(peak).toBe(3);
    expect(done.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('stops the others through their signal on the first failure, and throws that failure', async () => {
    const started: number[] = [];
    const aborted: number[] = [];
    const run = forEachLimit([1, 2, 3, 4], 2, never, async (n, signal) => {
      started.push(n);
      if (n === 1) throw new Error('first');
      await new Promise((r) => setTimeout(r, 10));
      if (signal.aborted) aborted.push(n);
    });
    await expect(run).rejects.toThrow('first');
    expect(started).toEqual([1, 2]);
    expect(aborted).toEqual([2]);
  });

  it('completes at once for no items', async () => {
    await expect(
      forEachLimit([], 4, never, () => Promise.reject(new Error('never'))),
    ).resolves.toBeUndefined();
  });
});
