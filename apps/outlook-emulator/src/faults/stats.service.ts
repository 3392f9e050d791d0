import { Injectable } from '@nestjs/common';

export interface MailboxStats {
  requests: number;
  concurrent: number;
  maxConcurrency: number;
  throttled: number;
  /** responses by status code */
  statuses: Record<string, number>;
  /** items served by message delta pages: messages and `@removed` entries (how much mail a client downloaded) */
  deltaItems: number;
  /** message delta pages served, and when the last one went out (ms since the epoch; 0: none yet) */
  deltaPages: number;
  lastDeltaAt: number;
  /**
   * requests sent again (same method and URL) before the Retry-After of their last 429/503/504 had passed: a
   * client that honours Retry-After keeps this at 0
   */
  earlyRetries: number;
}

/** what a client sent again too early counts against: the Retry-After's end, per mailbox and request */
const RETRY_AFTER_SLACK_MS = 20;
const MAX_REMEMBERED_RETRY_AFTERS = 10_000;

export interface NotificationDelivery {
  kind: 'change' | 'lifecycle' | 'validation';
  url: string;
  subscriptionIds: string[];
  items: number;
  /** 0 when the request failed before a status (timeout, refused) */
  status: number;
  latencyMs: number;
  attempt: number;
  outcome: 'delivered' | 'failed' | 'slow' | 'dropped';
}

/** counters for `GET /_emulator/stats`: what tests assert on (request counts, concurrency, deliveries) */
@Injectable()
export class StatsService {
  private mailboxes = new Map<string, MailboxStats>();
  /** `address request` -> when its last Retry-After ends (ms) */
  private retryAfterEnds = new Map<string, number>();
  private deliveries: NotificationDelivery[] = [];
  private deliveredItems = 0;

  private entry(address: string): MailboxStats {
    let s = this.mailboxes.get(address);
    if (!s) {
      s = {
        requests: 0,
        concurrent: 0,
        maxConcurrency: 0,
        throttled: 0,
        statuses: {},
        deltaItems: 0,
        deltaPages: 0,
        lastDeltaAt: 0,
        earlyRetries: 0,
      };
      this.mailboxes.set(address, s);
    }
    return s;
  }

  /** a request for the mailbox starts (after admission); returns the function that ends it */
  begin(address: string): () => void {
    const s = this.entry(address);
    s.requests++;
    s.concurrent++;
    if (s.concurrent > s.maxConcurrency) s.maxConcurrency = s.concurrent;
    return () => {
      s.concurrent--;
    };
  }

  status(address: string, status: number): void {
    const s = this.entry(address);
    s.statuses[status] = (s.statuses[status] ?? 0) + 1;
    if (status === 429) s.throttled++;
  }

  /** a message delta page went out with `items` entries */
  deltaServed(address: string, items: number, now = Date.now()): void {
    const s = this.entry(address);
    s.deltaItems += items;
    s.deltaPages++;
    s.lastDeltaAt = now;
  }

  /** a request arrives: counted as an early retry when a Retry-After given to the same request still runs */
  arrived(address: string, request: string, now = Date.now()): void {
    const key = `${address} ${request}`;
    const end = this.retryAfterEnds.get(key);
    if (end === undefined) return;
    this.retryAfterEnds.delete(key);
    if (now + RETRY_AFTER_SLACK_MS < end) this.entry(address).earlyRetries++;
  }

  /** the request was answered with a Retry-After of `seconds` */
  retryAfter(address: string, request: string, seconds: number, now = Date.now()): void {
    if (!Number.isFinite(seconds) || seconds <= 0) return;
    if (this.retryAfterEnds.size >= MAX_REMEMBERED_RETRY_AFTERS) {
      for (const [k, end] of this.retryAfterEnds) if (end <= now) this.retryAfterEnds.delete(k);
    }
    this.retryAfterEnds.set(`${address} ${request}`, now + seconds * 1000);
  }

  rejected(address: string): void {
    const s = this.entry(address);
    s.requests++;
  }

  recordDelivery(d: NotificationDelivery): void {
    if (d.outcome === 'delivered' && d.kind === 'change') this.deliveredItems += d.items;
    this.deliveries.push(d);
    if (this.deliveries.length > 10000) this.deliveries.splice(0, this.deliveries.length - 10000);
  }

  snapshot(): Record<string, unknown> {
    const byStatus: Record<string, number> = {};
    const latencies = this.deliveries
      .filter((d) => d.status > 0)
      .map((d) => d.latencyMs)
      .sort((a, b) => a - b);
    for (const d of this.deliveries) byStatus[d.status] = (byStatus[d.status] ?? 0) + 1;
    const pct = (p: number) =>
      latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : null;
    return {
      mailboxes: Object.fromEntries(this.mailboxes),
      notifications: {
        attempts: this.deliveries.length,
        deliveredItems: this.deliveredItems,
        failed: this.deliveries.filter((d) => d.outcome === 'failed').length,
        slow: this.deliveries.filter((d) => d.outcome === 'slow').length,
        dropped: this.deliveries.filter((d) => d.outcome === 'dropped').length,
        byStatus,
        latencyMs: { p50: pct(0.5), p95: pct(0.95), p99: pct(0.99) },
        recent: this.deliveries.slice(-50),
      },
    };
  }

  reset(): void {
    this.mailboxes = new Map();
    this.retryAfterEnds = new Map();
    this.deliveries = [];
    this.deliveredItems = 0;
  }
}
