import { Logger } from '@nestjs/common';
import { mailboxPokeSchema } from '@email-core/contracts';
import type { KafkaPublisher } from '@email-core/kafka';
import type { KafkaTopics } from '../messaging/kafka-topics';
import type { ReconcileClaimPort } from './reconcile-claim';
import { ReconcileJob } from './reconcile.job';
import { checkEveryMs, type ReconcileSettings } from './reconcile.settings';
import type { SyncedAccountsPort } from './synced-accounts';

const ids = Array.from({ length: 5 }, (_, i) => `00000000-0000-4000-8000-00000000000${i + 1}`);

/** A shared claim store with a clock, as the Redis key would behave for every worker. */
class Claims {
  now = 0;
  private readonly until = new Map<string, number>();
  port(): ReconcileClaimPort {
    return {
      claim: (key, ttlMs) => {
        if ((this.until.get(key) ?? -1) > this.now) return Promise.resolve(false);
        this.until.set(key, this.now + ttlMs);
        return Promise.resolve(true);
      },
    };
  }
}

function worker(
  claims: Claims,
  settings: Partial<ReconcileSettings> = {},
  sleep?: (ms: number) => Promise<void>,
) {
  const sent: Array<{ topic: string; key: string; value: unknown }> = [];
  const pages: Array<[string | null, number]> = [];
  const accounts: SyncedAccountsPort = {
    page: (after, limit) => {
      pages.push([after, limit]);
      const from = after === null ? 0 : ids.indexOf(after) + 1;
      return Promise.resolve(ids.slice(from, from + limit));
    },
    count: () => Promise.resolve(ids.length),
  };
  const publisher = {
    publishMany: (
      topic: string,
      messages: Array<{ key: string; value: unknown }>,
      opts: { schema: typeof mailboxPokeSchema },
    ) => {
      for (const m of messages) sent.push({ topic, key: m.key, value: opts.schema.parse(m.value) });
      return Promise.resolve();
    },
  } as unknown as KafkaPublisher;
  const topics = { name: (t: string) => `run1.${t}` } as unknown as KafkaTopics;
  const job = new ReconcileJob(accounts, claims.port(), publisher, topics, {
    intervalMs: 60_000,
    claimKey: 'jobs:{reconcile}:run1.',
    pageSize: 2,
    ...settings,
  });
  if (sleep) job.sleep = sleep;
  return { job, sent, pages };
}

describe('ReconcileJob', () => {
  beforeAll(() => {
    Logger.overrideLogger(false);
  });

  it('asks every synced account, page by page, for an every-folder round on the pokes topic, keyed by account', async () => {
    const claims = new Claims();
    const { job, sent, pages } = worker(claims);
    expect(await job.runIfDue(new Date('2026-11-22T10:00:00.000Z'))).toBe(5);
    expect(pages).toEqual([
      [null, 2],
      [ids[1], 2],
      [ids[3], 2],
    ]);
    expect(sent.map((s) => s.key)).toEqual(ids);
    expect(new Set(sent.map((s) => s.topic))).toEqual(new Set(['run1.email-core.mailbox.pokes']));
    for (const s of sent) {
      expect(s.value).toEqual({
        type: 'mailbox.poke',
        v: 1,
        accountId: s.key,
        source: 'reconcile',
        changes: [],
        everyFolder: true,
        receivedAt: '2026-11-22T10:00:00.000Z',
      });
      // the pokes consumer's schema takes it
      expect(mailboxPokeSchema.safeParse(s.value).success).toBe(true);
    }
  });

  it('runs at most once per interval across workers', async () => {
    const claims = new Claims();
    const a = worker(claims);
    const b = worker(claims);
    expect(await a.job.runIfDue()).toBe(5);
    expect(await b.job.runIfDue()).toBeNull();
    expect(await a.job.runIfDue()).toBeNull();
    claims.now = 59_999;
    expect(await b.job.runIfDue()).toBeNull();
    claims.now = 60_000;
    expect(await b.job.runIfDue()).toBe(5);
    expect(await a.job.runIfDue()).toBeNull();
    expect(a.sent).toHaveLength(5);
    expect(b.sent).toHaveLength(5);
  });

  it('does nothing when turned off (interval 0)', async () => {
    const claims = new Claims();
    const { job, sent, pages } = worker(claims, { intervalMs: 0 });
    expect(await job.runIfDue()).toBeNull();
    expect(sent).toEqual([]);
    expect(pages).toEqual([]);
  });

  it('an empty deployment publishes nothing', async () => {
    const publishMany = jest.fn();
    const job = new ReconcileJob(
      { page: () => Promise.resolve([]), count: () => Promise.resolve(0) },
      new Claims().port(),
      { publishMany } as unknown as KafkaPublisher,
      { name: (t: string) => t } as unknown as KafkaTopics,
      { intervalMs: 1000, claimKey: 'k', pageSize: 2 },
    );
    expect(await job.runIfDue()).toBe(0);
    expect(publishMany).not.toHaveBeenCalled();
  });

  it('looks whether a round is due often enough to keep to the interval', () => {
    expect(checkEveryMs(900_000)).toBe(60_000);
    expect(checkEveryMs(60_000)).toBe(12_000);
    expect(checkEveryMs(5000)).toBe(1000);
    expect(checkEveryMs(1000)).toBe(1000);
  });

  it("spreads a round's pokes over its share of the interval, a slice at a time, in the same order", async () => {
    const waits: Array<{ ms: number; sentBefore: number }> = [];
    let w: ReturnType<typeof worker> | undefined = undefined;
    const sleep = (ms: number) => {
      waits.push({ ms, sentBefore: w?.sent.length ?? 0 });
      return Promise.resolve();
    };
    // 5 accounts over half of a 4 s interval: 2.5 a second; slices of 2 (a page at most), 0.8 s apart
    w = worker(new Claims(), { intervalMs: 4000, spreadShare: 0.5, pageSize: 2 }, sleep);
    expect(await w.job.runIfDue()).toBe(5);
    expect(w.sent.map((s) => s.key)).toEqual(ids);
    expect(waits).toEqual([
      { ms: 800, sentBefore: 2 },
      { ms: 800, sentBefore: 4 },
    ]);
  });
});
