import { Logger } from '@nestjs/common';
import type { DatabaseState, MailChangesRepository } from '@email-core/database';
import { waitFor } from '@email-core/testing';
import { MailChangesPruneJob } from './mail-changes-prune.job';

describe('MailChangesPruneJob', () => {
  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  const job = (prune: (olderThan: Date) => Promise<number>, migrated = true) =>
    new MailChangesPruneJob(
      { prune } as unknown as MailChangesRepository,
      { migrated } as unknown as DatabaseState,
      { lockWaitMs: 1, maxLookups: 1, changesRetentionHours: 72, pruneIntervalMs: 20 },
    );

  it('drops the change log entries older than the retention window', async () => {
    const cutoffs: Date[] = [];
    const now = Date.parse('2026-01-10T00:00:00.000Z');
    expect(
      await job((olderThan) => {
        cutoffs.push(olderThan);
        return Promise.resolve(7);
      }).prune(now),
    ).toBe(7);
    expect(cutoffs).toEqual([new Date('2026-01-07T00:00:00.000Z')]);
  });

  it('runs on its interval once the database is migrated, survives a failure, and stops with the app', async () => {
    let calls = 0;
    const j = job(() => {
      calls += 1;
      return calls === 1 ? Promise.reject(new Error('db down')) : Promise.resolve(0);
    });
    // the first run waits min(60 s, interval): 20 ms here. Waits for the second run rather than a fixed 150 ms,
    // which a loaded machine could overrun before two 20 ms timers fired
    j.onApplicationBootstrap();
    await waitFor(() => Promise.resolve(calls >= 2 || undefined), {
      timeoutMs: 10_000,
      intervalMs: 10,
      what: "the job's second run",
    });
    await j.beforeApplicationShutdown();
    const after = calls;
    expect(after).toBeGreaterThanOrEqual(2);
    await new Promise((r) => setTimeout(r, 60));
    expect(calls).toBe(after);
  });

  it('does nothing before the database is migrated', async () => {
    let calls = 0;
    const j = job(() => {
      calls += 1;
      return Promise.resolve(0);
    }, false);
    j.onApplicationBootstrap();
    await new Promise((r) => setTimeout(r, 80));
    await j.beforeApplicationShutdown();
    expect(calls).toBe(0);
  });
});
