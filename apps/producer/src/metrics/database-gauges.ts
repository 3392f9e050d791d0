import { Injectable, Logger } from '@nestjs/common';
import type { Gauge } from 'prom-client';
import {
  MAIL_ACCOUNT_STATUSES,
  OperationalCountsRepository,
  type OutboxBacklog,
  type SubscriptionExpiry,
} from '@email-core/database';
import { MetricsRegistry } from '@email-core/metrics';
import { EXPIRING_SOON_MS, SUBSCRIPTION_STATES } from '../ops/queries/subscriptions/subscription-state';

/** a scrape reads the database at most this often; every scrape in between gets the last counts */
export const DATABASE_GAUGES_TTL_MS = 5_000;
/** the `within_seconds` thresholds of the expiry gauge: 1 h (expiring soon), 6 h, 12 h (renewal due), 1, 2, 3 days */
export const EXPIRY_THRESHOLDS_SECONDS = [3600, 21_600, 43_200, 86_400, 172_800, 259_200] as const;
/** the providers whose account series exist (at 0) from the start */
const KNOWN_PROVIDERS = ['outlook', 'imap'];

interface Counts {
  accounts: Array<{ provider: string; status: string; count: number }>;
  subscriptions: SubscriptionExpiry;
  outbox: OutboxBacklog;
}

/**
 * Gauges read from Postgres when scraped (whole-table aggregates, cached {@link DATABASE_GAUGES_TTL_MS}, so a
 * scrape every second costs a query every 5 s): accounts by provider and status, Graph subscriptions by state and
 * by time left, the outbox backlog and the relay's lag. The labels are fixed sets: 500 or 500,000 accounts
 * give the same series. A failed read keeps the last values (and says so in the log).
 */
@Injectable()
export class DatabaseGauges {
  private readonly logger = new Logger('DatabaseGauges');
  private cached: { at: number; counts: Promise<Counts | undefined> } | undefined;
  private last: Counts | undefined;
  private readonly providers = new Set(KNOWN_PROVIDERS);

  constructor(
    registry: MetricsRegistry,
    private readonly repository: OperationalCountsRepository,
    private readonly now: () => number = Date.now,
  ) {
    const accounts: Gauge<'provider' | 'status'> = registry.gauge({
      name: 'mail_accounts',
      help: 'Linked mail accounts, by provider and status (syncing, synced, reauth_required, error); read from Postgres at a scrape, at most every 5 s.',
      labelNames: ['provider', 'status'],
      collect: async () => {
        const c = await this.counts();
        if (!c) return;
        accounts.reset();
        for (const provider of this.providers)
          for (const status of MAIL_ACCOUNT_STATUSES) accounts.set({ provider, status }, 0);
        for (const row of c.accounts) accounts.set({ provider: row.provider, status: row.status }, row.count);
      },
    });
    const subscriptions: Gauge<'state'> = registry.gauge({
      name: 'graph_subscriptions',
      help: 'Graph change-notification subscriptions, by state: active, expiring_soon (under an hour left: its renewal is late), expired.',
      labelNames: ['state'],
      collect: async () => {
        const s = (await this.counts())?.subscriptions;
        if (!s) return;
        const soon = s.within.get(EXPIRING_SOON_MS / 1000) ?? 0;
        const values: Record<(typeof SUBSCRIPTION_STATES)[number], number> = {
          active: s.total - s.expired - soon,
          expiring_soon: soon,
          expired: s.expired,
        };
        for (const state of SUBSCRIPTION_STATES) subscriptions.set({ state }, values[state]);
      },
    });
    const expiring: Gauge<'within_seconds'> = registry.gauge({
      name: 'graph_subscriptions_expiring',
      help: 'Graph subscriptions not expired yet that expire within the labelled number of seconds (cumulative, like histogram buckets; +Inf: all not expired).',
      labelNames: ['within_seconds'],
      collect: async () => {
        const s = (await this.counts())?.subscriptions;
        if (!s) return;
        for (const [seconds, n] of s.within) expiring.set({ within_seconds: String(seconds) }, n);
        expiring.set({ within_seconds: '+Inf' }, s.total - s.expired);
      },
    });
    const pending: Gauge = registry.gauge({
      name: 'outbox_pending_messages',
      help: 'Outbox rows committed but not published to Kafka yet (the relay sends them; set-aside rows not included).',
      collect: async () => {
        const o = (await this.counts())?.outbox;
        if (o) pending.set(o.pending);
      },
    });
    const rejected: Gauge = registry.gauge({
      name: 'outbox_rejected_messages',
      help: 'Outbox rows set aside as never publishable (unknown topic, payload breaking its contract): an operator looks at them.',
      collect: async () => {
        const o = (await this.counts())?.outbox;
        if (o) rejected.set(o.rejected);
      },
    });
    const lag: Gauge = registry.gauge({
      name: 'outbox_relay_lag_seconds',
      help: 'Age of the oldest outbox row waiting to be published (0 when none waits): how far behind the relay is.',
      collect: async () => {
        const o = (await this.counts())?.outbox;
        if (o) lag.set(o.oldestPendingSeconds);
      },
    });
  }

  /** the counts of the last read, read again once older than the TTL (one read for all the gauges of a scrape) */
  private counts(): Promise<Counts | undefined> {
    const now = this.now();
    if (this.cached && now - this.cached.at < DATABASE_GAUGES_TTL_MS) return this.cached.counts;
    const counts = this.read();
    this.cached = { at: now, counts };
    return counts;
  }

  private async read(): Promise<Counts | undefined> {
    try {
      const [accounts, subscriptions, outbox] = await Promise.all([
        this.repository.accountsByStatus(),
        this.repository.subscriptionExpiry(EXPIRY_THRESHOLDS_SECONDS),
        this.repository.outboxBacklog(),
      ]);
      for (const row of accounts) this.providers.add(row.provider);
      this.last = { accounts, subscriptions, outbox };
    } catch (err) {
      this.logger.warn(
        `metrics: database counts not read, the last ones kept: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    return this.last;
  }
}
