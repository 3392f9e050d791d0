import type { OperationalCountsRepository } from '@email-core/database';
import { MetricsRegistry, parseExposition, sumOf } from '@email-core/metrics';
import { DatabaseGauges, EXPIRY_THRESHOLDS_SECONDS } from './database-gauges';

function fakeRepository() {
  const reads = { count: 0, fail: false };
  const repository = {
    accountsByStatus: () => {
      reads.count += 1;
      if (reads.fail) return Promise.reject(new Error('connection refused'));
      return Promise.resolve([
        { provider: 'outlook', status: 'synced', count: 480 },
        { provider: 'outlook', status: 'reauth_required', count: 20 },
        { provider: 'imap', status: 'syncing', count: 3 },
      ]);
    },
    subscriptionExpiry: (within: readonly number[]) =>
      Promise.resolve({
        total: 500,
        expired: 2,
        within: new Map(within.map((s) => [s, s === 3600 ? 5 : s >= 86_400 ? 498 : 40])),
      }),
    outboxBacklog: () => Promise.resolve({ pending: 7, rejected: 1, oldestPendingSeconds: 2.5 }),
  } as unknown as OperationalCountsRepository;
  return { repository, reads };
}

describe('DatabaseGauges', () => {
  it('accounts by provider and status, subscriptions by state and time left, the outbox backlog and lag', async () => {
    const registry = new MetricsRegistry({ defaultMetrics: false });
    const { repository } = fakeRepository();
    new DatabaseGauges(registry, repository);
    const samples = parseExposition(await registry.metrics());
    expect(sumOf(samples, 'email_core_mail_accounts', { provider: 'outlook', status: 'synced' })).toBe(480);
    expect(sumOf(samples, 'email_core_mail_accounts', { provider: 'imap', status: 'syncing' })).toBe(3);
    // every status of every known provider exists, at 0 when none
    expect(samples.filter((s) => s.name === 'email_core_mail_accounts')).toHaveLength(8);
    expect(sumOf(samples, 'email_core_graph_subscriptions', { state: 'expired' })).toBe(2);
    expect(sumOf(samples, 'email_core_graph_subscriptions', { state: 'expiring_soon' })).toBe(5);
    expect(sumOf(samples, 'email_core_graph_subscriptions', { state: 'active' })).toBe(493);
    expect(samples.filter((s) => s.name === 'email_core_graph_subscriptions_expiring')).toHaveLength(
      EXPIRY_THRESHOLDS_SECONDS.length + 1,
    );
    expect(sumOf(samples, 'email_core_graph_subscriptions_expiring', { within_seconds: '+Inf' })).toBe(498);
    expect(sumOf(samples, 'email_core_outbox_pending_messages')).toBe(7);
    expect(sumOf(samples, 'email_core_outbox_rejected_messages')).toBe(1);
    expect(sumOf(samples, 'email_core_outbox_relay_lag_seconds')).toBe(2.5);
  });

  it('reads the database once for all the gauges of a scrape, again after 5 s; a failed read keeps the last values', async () => {
    const registry = new MetricsRegistry({ defaultMetrics: false });
    const { repository, reads } = fakeRepository();
    let now = 1_000_000;
    new DatabaseGauges(registry, repository, () => now);
    await registry.metrics();
    await registry.metrics();
    expect(reads.count).toBe(1);
    now += 5_000;
    reads.fail = true;
    const samples = parseExposition(await registry.metrics());
    expect(reads.count).toBe(2);
    expect(sumOf(samples, 'email_core_mail_accounts', { provider: 'outlook', status: 'synced' })).toBe(480);
  });
});
