import { Logger } from '@nestjs/common';

export type DropReason = 'unknownSubscription' | 'clientStateMismatch';

/** at most one line per this interval, so a flood of forged notifications cannot flood the log */
const REPORT_INTERVAL_MS = 10_000;

/**
 * Counts the notification items the webhook dropped and says so in the log: counts per reason only, never a
 * subscription id, a clientState or a resource. The first drop is reported at once, later ones summed up to
 * once per 10 s.
 */
export class WebhookDropLog {
  private readonly logger = new Logger('GraphWebhook');
  private pending: Record<DropReason, number> = { unknownSubscription: 0, clientStateMismatch: 0 };
  private lastReportAt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  /** one request's drops */
  record(counts: Partial<Record<DropReason, number>>): void {
    const unknown = counts.unknownSubscription ?? 0;
    const mismatch = counts.clientStateMismatch ?? 0;
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
