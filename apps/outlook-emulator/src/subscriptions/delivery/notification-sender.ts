import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { FaultsService } from '../../faults/faults.service';
import { StatsService } from '../../faults/stats.service';
import type {
  ChangeNotificationItem,
  LifecycleNotificationItem,
  NotificationItem,
} from '../domain/notification-payloads';
import { isActive } from '../domain/subscription';
import { SubscriptionRepository } from '../domain/subscription.repository';
import { SUBSCRIPTION_SETTINGS, type SubscriptionSettings } from '../subscription-settings';
import { retryDelayMs, shuffle } from './backoff';
import { WebhookClient } from './webhook-client';

interface Batch {
  kind: 'change' | 'lifecycle';
  url: string;
  items: NotificationItem[];
  /** attempts made so far */
  attempt: number;
}

/**
 * Delivers notifications as Graph does: change notifications for one URL are collected for a short window and
 * POSTed together (at most `batchMaxItems` per POST, items of several subscriptions mixed); a non-2xx, a
 * refused connection or no answer within the timeout is retried with exponential backoff; every attempt is
 * recorded in the stats. The notification faults (drop, duplicate, delay, reorder) are applied here.
 */
@Injectable()
export class NotificationSender implements OnModuleDestroy {
  private readonly log = new Logger('Notifications');
  private readonly pending = new Map<string, { items: ChangeNotificationItem[]; timer: NodeJS.Timeout }>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private inFlight = 0;
  /** aborted on reset: in-flight POSTs stop and schedule nothing further */
  private cancel = new AbortController();
  private undeliverable: (subscriptionIds: string[]) => void = () => undefined;

  constructor(
    private readonly client: WebhookClient,
    private readonly faults: FaultsService,
    private readonly stats: StatsService,
    private readonly repo: SubscriptionRepository,
    @Inject(SUBSCRIPTION_SETTINGS) private readonly settings: SubscriptionSettings,
  ) {}

  /** called with the subscriptions whose change notifications were given up on after the last attempt */
  onUndeliverable(listener: (subscriptionIds: string[]) => void): void {
    this.undeliverable = listener;
  }

  enqueueChange(url: string, item: ChangeNotificationItem): void {
    const f = this.faults.settings.notifications;
    if (f.drop > 0 && Math.random() < f.drop) {
      this.stats.recordDelivery({
        kind: 'change',
        url,
        subscriptionIds: [item.subscriptionId],
        items: 1,
        status: 0,
        latencyMs: 0,
        attempt: 0,
        outcome: 'dropped',
      });
      return;
    }
    this.collect(url, item);
    // the copy travels in a later POST, as Graph's at-least-once duplicates do
    if (f.duplicate > 0 && Math.random() < f.duplicate) {
      this.later(() => this.collect(url, item), this.settings.batchWindowMs + 1);
    }
  }

  /** lifecycle notifications go out at once, one per POST, with the same retries */
  sendLifecycle(url: string, item: LifecycleNotificationItem): void {
    this.run({ kind: 'lifecycle', url, items: [item], attempt: 0 });
  }

  /**
   * Deliveries not finished yet: batches being collected, held back (delay, reorder), waiting for a retry, or in
   * flight. Tests wait for 0 before they call a system quiet: a retry can still arrive minutes later.
   */
  outstanding(): number {
    return this.timers.size + this.inFlight;
  }

  /** drops everything queued or scheduled and aborts what is in flight */
  reset(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.pending.clear();
    this.cancel.abort();
    this.cancel = new AbortController();
  }

  onModuleDestroy(): void {
    this.reset();
  }

  private collect(url: string, item: ChangeNotificationItem): void {
    let queue = this.pending.get(url);
    if (!queue) {
      queue = { items: [], timer: this.later(() => this.flush(url), this.settings.batchWindowMs) };
      this.pending.set(url, queue);
    }
    queue.items.push(item);
    if (queue.items.length >= this.settings.batchMaxItems) this.flush(url);
  }

  private flush(url: string): void {
    const queue = this.pending.get(url);
    if (!queue) return;
    this.pending.delete(url);
    clearTimeout(queue.timer);
    this.timers.delete(queue.timer);
    const { delayMs, reorder } = this.faults.settings.notifications;
    const items = reorder ? shuffle(queue.items) : queue.items;
    for (let i = 0; i < items.length; i += this.settings.batchMaxItems) {
      const batch: Batch = {
        kind: 'change',
        url,
        items: items.slice(i, i + this.settings.batchMaxItems),
        attempt: 0,
      };
      // with reorder on, a random hold lets a later batch overtake an earlier one
      const hold =
        delayMs + (reorder ? Math.floor(Math.random() * (this.settings.batchWindowMs * 2 + 100)) : 0);
      if (hold > 0) this.later(() => this.run(batch), hold);
      else this.run(batch);
    }
  }

  private run(batch: Batch): void {
    this.inFlight++;
    this.attempt(batch)
      .catch((err: unknown) =>
        this.log.error(
          `delivery to ${batch.url} failed: ${err instanceof Error ? err.message : String(err)}`,
        ),
      )
      .finally(() => this.inFlight--);
  }

  private async attempt(batch: Batch): Promise<void> {
    const s = this.settings;
    const now = Date.now();
    // a deleted or expired subscription stops delivering, retries included
    batch.items =
      batch.kind === 'change'
        ? batch.items.filter((i) => {
            const sub = this.repo.get(i.subscriptionId);
            return sub !== undefined && isActive(sub, now);
          })
        : batch.items;
    if (!batch.items.length) return;
    batch.attempt++;
    const signal = this.cancel.signal;
    const res = await this.client.post({
      url: batch.url,
      contentType: 'application/json',
      body: JSON.stringify({ value: batch.items }),
      timeoutMs: s.deliveryTimeoutMs,
      signal,
    });
    if (signal.aborted) return;
    const ok = res.status >= 200 && res.status < 300;
    const subscriptionIds = [...new Set(batch.items.map((i) => i.subscriptionId))];
    this.stats.recordDelivery({
      kind: batch.kind,
      url: batch.url,
      subscriptionIds,
      items: batch.items.length,
      status: res.status,
      latencyMs: Math.round(res.latencyMs),
      attempt: batch.attempt,
      outcome: res.timedOut || (ok && res.latencyMs > s.slowMs) ? 'slow' : ok ? 'delivered' : 'failed',
    });
    if (ok) {
      if (batch.kind === 'change') for (const i of batch.items) this.repo.get(i.subscriptionId)!.delivered++;
      return;
    }
    if (batch.attempt < s.maxAttempts) {
      this.later(() => this.run(batch), retryDelayMs(batch.attempt, s.retryBaseMs, s.retryMaxMs));
    } else if (batch.kind === 'change') {
      this.log.warn(
        `gave up on ${batch.items.length} notification(s) for ${batch.url} after ${batch.attempt} attempts`,
      );
      this.undeliverable(subscriptionIds);
    }
  }

  /** an unref'd timer, cleared on reset, so pending work never holds the process open */
  private later(fn: () => void, ms: number): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    t.unref();
    this.timers.add(t);
    return t;
  }
}
