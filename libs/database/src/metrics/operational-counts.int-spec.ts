import { randomUUID } from 'node:crypto';
import { currentTestRun } from '@email-core/testing';
import type { EntityManager } from 'typeorm';
import { createDataSource } from '../data-source';
import { OperationalCountsRepository } from './operational-counts.repository';

/**
 * The aggregates the metrics read at a scrape, on the run's migrated database. Everything happens in one
 * REPEATABLE READ transaction that is rolled back: its reads share one snapshot, so what other tests commit
 * meanwhile cannot move them, and the differences before/after this test's own rows are exact.
 */
describe('OperationalCountsRepository (real Postgres)', () => {
  const dataSource = createDataSource({ url: currentTestRun().databaseUrl, poolSize: 1 });

  beforeAll(() => dataSource.initialize());
  afterAll(() => dataSource.destroy());

  /** runs `fn` in a REPEATABLE READ transaction that is always rolled back */
  const inSnapshot = async (fn: (manager: EntityManager) => Promise<void>): Promise<void> => {
    const runner = dataSource.createQueryRunner();
    await runner.connect();
    await runner.startTransaction('REPEATABLE READ');
    try {
      await fn(runner.manager);
    } finally {
      await runner.rollbackTransaction();
      await runner.release();
    }
  };

  it('counts accounts by provider and status, subscriptions by time left, and the outbox backlog and its age', async () => {
    await inSnapshot(async (m) => {
      const counts = new OperationalCountsRepository(m);
      const thresholds = [3600, 21_600, 259_200];
      const before = {
        accounts: await counts.accountsByStatus(),
        expiry: await counts.subscriptionExpiry(thresholds),
        outbox: await counts.outboxBacklog(),
      };

      const user = randomUUID();
      await m.query(`INSERT INTO users (id, email, password_hash) VALUES ($1, $2, 'x')`, [
        user,
        `${user}@example.test`,
      ]);
      const accounts = [
        ['outlook', 'synced'],
        ['outlook', 'synced'],
        ['outlook', 'reauth_required'],
        ['imap', 'syncing'],
      ].map(([provider, status]) => ({ id: randomUUID(), provider, status }));
      for (const a of accounts) {
        await m.query(
          `INSERT INTO mail_accounts (id, user_id, provider, external_user_id, email, status)
           VALUES ($1::uuid, $2, $3, $1::text, $1::text || '@example.test', $4)`,
          [a.id, user, a.provider, a.status],
        );
      }
      // expired 10 min ago; 30 min, 5 h and 2 days left
      for (const [i, left] of ['-10 minutes', '30 minutes', '5 hours', '2 days'].entries()) {
        await m.query(
          `INSERT INTO graph_subscriptions (account_id, subscription_id, client_state_hash, resource, expires_at)
           VALUES ($1, $2, 'h', 'me/messages', now() + $3::interval)`,
          [accounts[i].id, `metrics-sub-${randomUUID()}`, left],
        );
      }
      // pending: one 3 days old, one failed once; one published; one set aside as never publishable
      await m.query(
        `INSERT INTO outbox (topic, message_key, message_type, payload, created_at, published_at, attempts, last_error)
         VALUES ('t', 'k', 'x', '{}', now() - interval '3 days', NULL, 0, NULL),
                ('t', 'k', 'x', '{}', now() - interval '10 seconds', NULL, 1, 'broker down'),
                ('t', 'k', 'x', '{}', now() - interval '4 days', now(), 1, NULL),
                ('t', 'k', 'x', '{}', now() - interval '5 days', NULL, 1, 'rejected: unknown topic "t"')`,
      );

      const countOf = (
        rows: Array<{ provider: string; status: string; count: number }>,
        p: string,
        s: string,
      ) => rows.find((r) => r.provider === p && r.status === s)?.count ?? 0;
      const accountsAfter = await counts.accountsByStatus();
      for (const [p, s, grew] of [
        ['outlook', 'synced', 2],
        ['outlook', 'reauth_required', 1],
        ['outlook', 'error', 0],
        ['imap', 'syncing', 1],
      ] as const) {
        expect({ p, s, grew: countOf(accountsAfter, p, s) - countOf(before.accounts, p, s) }).toEqual({
          p,
          s,
          grew,
        });
      }

      const expiry = await counts.subscriptionExpiry(thresholds);
      expect(expiry.total - before.expiry.total).toBe(4);
      expect(expiry.expired - before.expiry.expired).toBe(1);
      const within = (s: number) => (expiry.within.get(s) ?? 0) - (before.expiry.within.get(s) ?? 0);
      expect([within(3600), within(21_600), within(259_200)]).toEqual([1, 2, 3]);

      const outbox = await counts.outboxBacklog();
      expect(outbox.pending - before.outbox.pending).toBe(2);
      expect(outbox.rejected - before.outbox.rejected).toBe(1);
      // the 3-day-old pending row is the oldest (the set-aside one, older still, does not count)
      expect(outbox.oldestPendingSeconds).toBeGreaterThanOrEqual(3 * 86_400);
      expect(outbox.oldestPendingSeconds).toBeLessThan(4 * 86_400);
    });
  });
});
