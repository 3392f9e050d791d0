import { Logger } from '@nestjs/common';
import type { WebhookItemOutcome } from '../metrics/producer-metrics';

export type DropReason = 'unknownSubscription' | 'clientStateMismatch';

/** counts notification items by what became of them (the producer's metrics) */
export type ItemCounter = (outcome: WebhookItemOutcome, count: number) => void;

/** at most one line per this interval, so a flood of forged notifications cannot flood the log */
const REPORT_INTERVAL_MS = 10_000;

/**
 * Counts the notification items the webhook dropped and says so in the log: counts per reason only, never a
 * subscription id, a clientState or a resource. Every item's outcome, accepted ones included, also goes to
 * `count` (the producer's `email_core_webhook_notifications_total`). The first drop is reported at once, later ones summed up to
 * once per 10 s.
 */
export class WebhookDropLog {
  private readonly logger = new Logger('GraphWebhook');
  private pending: Record<DropReason, number> = { unknownSubscription: 0, clientStateMismatch: 0 };
  private lastReportAt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly count: ItemCounter = () => undefined,
  ) {}

  /** one request's drops (and, for the metrics, how many of its items were accepted) */
  record(counts: Partial<Record<DropReason | 'accepted', number>>): void {
    const unknown = counts.unknownSubscription ?? 0;
    const mismatch = counts.clientStateMismatch ?? 0;
    if ((counts.accepted ?? 0) > 0) this.count('accepted', counts.accepted ?? 0);
    if (unknown > 0) this.count('dropped_unknown_subscription', unknown);
    if (mismatch > 0) this.count('dropped_client_state_mismatch', mismatch);
    if (unknown + mismatch <= 0) return;
    this.pending.unknownSubscription += unknown;
    this.pending.clientStateMismatch += mismatch;
    const wait = this.lastReportAt + REPORT_INTERVAL_MS - this.now();
    if (wait <= 0) this.report();
    else this.timer ??= setTimeout(() => this.report(), wait).unref();
  }

  private report(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const { unknownSubscription, clientStateMismatch } = this.pending;
    if (unknownSubscription + clientStateMismatch === 0) return;
    this.pending = { unknownSubscription: 0, clientStateMismatch: 0 };
    this.lastReportAt = this.now();
    this.logger.warn(
      `dropped notification items: ${unknownSubscription} for unknown subscriptions, ` +
        `${clientStateMismatch} with a clientState that does not match (answered 202 all the same)`,
    );
  }
}
