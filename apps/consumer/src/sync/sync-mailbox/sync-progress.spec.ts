import { forEachLimit } from '../../mirror/concurrency';
import { SyncProgress, type SyncProgressSnapshot } from './sync-progress';

describe('SyncProgress', () => {
  const clock = () => {
    let t = 1_000;
    return { now: () => t, advance: (ms: number) => void (t += ms) };
  };

  it('reports every N committed pages when they come fast, counting messages and finished folders, with the totals', async () => {
    const reports: SyncProgressSnapshot[] = [];
    const c = clock();
    const progress = new SyncProgress(
      { foldersTotal: 3, messagesTotal: 40 },
      { everyPages: 2, minIntervalMs: 500, now: c.now },
      (s) => Promise.resolve(void reports.push(s)),
    );
    await progress.pageCommitted(10, false);
    expect(reports).toEqual([]);
    await progress.pageCommitted(5, true);
    await progress.pageCommitted(7, false);
    await progress.pageCommitted(0, true);
    expect(reports).toEqual([
      { foldersTotal: 3, foldersDone: 1, messagesSynced: 15, messagesTotal: 40 },
      { foldersTotal: 3, foldersDone: 2, messagesSynced: 22, messagesTotal: 40 },
    ]);
  });

  it('reports a page that commits once the interval passed since the start or the last report, however few pages', async () => {
    const reports: number[] = [];
    const c = clock();
    const progress = new SyncProgress(
      { foldersTotal: 1, messagesTotal: 1900 },
      { everyPages: 5, minIntervalMs: 500, now: c.now },
      (s) => Promise.resolve(void reports.push(s.messagesSynced)),
    );
    c.advance(499);
    await progress.pageCommitted(500, false); // 499 ms after the start: not yet
    expect(reports).toEqual([]);
    c.advance(1);
    await progress.pageCommitted(500, false); // 500 ms: reported
    expect(reports).toEqual([1000]);
    c.advance(300);
    await progress.pageCommitted(500, false); // 300 ms after that report: not yet
    c.advance(250);
    await progress.pageCommitted(400, true); // 550 ms after it: reported
    expect(reports).toEqual([1000, 1900]);
  });

  it('never reports more than once per page, even when pages are slower than the interval', async () => {
    const reports: number[] = [];
    const c = clock();
    const progress = new SyncProgress(
      { foldersTotal: 2, messagesTotal: 300 },
      { everyPages: 5, minIntervalMs: 500, now: c.now },
      (s) => Promise.resolve(void reports.push(s.messagesSynced)),
    );
    for (let i = 0; i < 3; i++) {
      c.advance(5_000);
      await progress.pageCommitted(100, false);
    }
    expect(reports).toEqual([100, 200, 300]);
  });

  it('publishes one report at a time, in order, when folders commit pages in parallel', async () => {
    const log: string[] = [];
    let releaseFirst: () => void = () => undefined;
    const c = clock();
    const progress = new SyncProgress(
      { foldersTotal: 2, messagesTotal: 20 },
      { everyPages: 1, minIntervalMs: 500, now: c.now },
      (s) => {
        log.push(`start ${s.messagesSynced}`);
        const done = () => void log.push(`end ${s.messagesSynced}`);
        if (s.messagesSynced === 5) return new Promise<void>((r) => (releaseFirst = () => r(done())));
        done();
        return Promise.resolve();
      },
    );
    const first = progress.pageCommitted(5, false); // folder A: its publish is slow
    const second = progress.pageCommitted(7, true); // folder B commits meanwhile
    await new Promise((r) => setTimeout(r, 5));
    expect(log).toEqual(['start 5']);
    releaseFirst();
    await Promise.all([first, second]);
    expect(log).toEqual(['start 5', 'end 5', 'start 12', 'end 12']);
  });

  it('a failed report fails its own page only; the next one still goes out', async () => {
    const sent: number[] = [];
    const c = clock();
    const progress = new SyncProgress(
      { foldersTotal: 1, messagesTotal: 3 },
      { everyPages: 1, minIntervalMs: 500, now: c.now },
      (s) =>
        s.messagesSynced === 1
          ? Promise.reject(new Error('kafka down'))
          : Promise.resolve(void sent.push(s.messagesSynced)),
    );
    await expect(progress.pageCommitted(1, false)).rejects.toThrow('kafka down');
    await progress.pageCommitted(2, true);
    expect(sent).toEqual([3]);
  });

  it('the page count resets with a time-based report', async () => {
    const reports: number[] = [];
    const c = clock();
    const progress = new SyncProgress(
      { foldersTotal: 1, messagesTotal: 1900 },
      { everyPages: 3, minIntervalMs: 500, now: c.now },
      (s) => Promise.resolve(void reports.push(s.messagesSynced)),
    );
    await progress.pageCommitted(1, false);
    c.advance(600);
    await progress.pageCommitted(1, false); // by time
    await progress.pageCommitted(1, false);
    await progress.pageCommitted(1, false); // 2 pages since: not yet
    expect(reports).toEqual([2]);
    await progress.pageCommitted(1, false); // 3 pages since: by count
    expect(reports).toEqual([2, 5]);
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
