import type { DataSource, EntityManager } from 'typeorm';
import type { MailAccountStatus } from '../mail/mail-account-sync.repository';
import { REJECTED } from '../outbox/outbox.repository';

export const MAIL_ACCOUNT_STATUSES: readonly MailAccountStatus[] = [
  'syncing',
  'synced',
  'reauth_required',
  'error',
];

/** The outbox's unpublished rows: what the relay has still to send, and what it set aside for good. */
export interface OutboxBacklog {
  /** unpublished rows the relay will send (failed sends included) */
  pending: number;
  /** unpublished rows set aside as never publishable (no such topic, a payload breaking its contract) */
  rejected: number;
  /** seconds since the oldest pending row was committed; 0 without one */
  oldestPendingSeconds: number;
}

/** Graph subscriptions by time left: `expired` ones, and how many expire within each of `withinSeconds`. */
export interface SubscriptionExpiry {
  total: number;
  expired: number;
  /** seconds → subscriptions not expired that expire within that many seconds (cumulative) */
  within: Map<number, number>;
}

/**
 * The aggregate counts the metrics read at a scrape (accounts by provider and status, Graph subscriptions by time
 * left, the outbox backlog): one query each, whole-table aggregates, never a row or an id.
 */
export class OperationalCountsRepository {
  /** the pool, or a transaction's manager (tests read inside one) */
  constructor(private readonly dataSource: DataSource | EntityManager) {}

  async accountsByStatus(): Promise<Array<{ provider: string; status: string; count: number }>> {
    const rows: Array<{ provider: string; status: string; count: number }> = await this.dataSource.query(
      `SELECT provider, status, count(*)::int AS count FROM mail_accounts GROUP BY provider, status`,
    );
    return rows;
  }

  async subscriptionExpiry(withinSeconds: readonly number[]): Promise<SubscriptionExpiry> {
    const filters = withinSeconds.map(
      (_s, i) =>
        `count(*) FILTER (WHERE expires_at > now() AND expires_at <= now() + make_interval(secs => $${i + 1}))::int AS w${i}`,
    );
    const [row]: Array<Record<string, number>> = await this.dataSource.query(
      `SELECT count(*)::int AS total, count(*) FILTER (WHERE expires_at <= now())::int AS expired
              ${filters.map((f) => `, ${f}`).join('')}
         FROM graph_subscriptions`,
      [...withinSeconds],
    );
    return {
      total: row.total,
      expired: row.expired,
      within: new Map(withinSeconds.map((s, i) => [s, row[`w${i}`]])),
    };
  }

  async outboxBacklog(): Promise<OutboxBacklog> {
    const [row]: Array<{ pending: number; rejected: number; oldest: number | null }> =
      await this.dataSource.query(
        `SELECT count(*) FILTER (WHERE NOT set_aside)::int AS pending,
              count(*) FILTER (WHERE set_aside)::int AS rejected,
              extract(epoch FROM now() - min(created_at) FILTER (WHERE NOT set_aside))::float8 AS oldest
         FROM (SELECT created_at, coalesce(left(last_error, $1) = $2, false) AS set_aside
                 FROM outbox WHERE published_at IS NULL) unpublished`,
        [REJECTED.length, REJECTED],
      );
    return {
      pending: row.pending,
      rejected: row.rejected,
      oldestPendingSeconds: Math.max(0, row.oldest ?? 0),
    };
  }
}
