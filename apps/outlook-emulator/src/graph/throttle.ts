import { Injectable } from '@nestjs/common';
import { FaultsService } from '../faults/faults.service';
import { GraphError, tooManyRequests } from './graph-error';

interface Slot {
  concurrent: number;
  windowStart: number;
  count: number;
}

interface SubscriptionSlot {
  windowStart: number;
  writes: number;
  requests: number;
}

/** what the subscription service admitted and refused (in `GET /_emulator/stats` as `subscriptionService`) */
export interface SubscriptionServiceStats {
  requests: number;
  writes: number;
  /** 429s answered for being over the subscription service's limits */
  throttled: number;
  /** the most writes admitted in one window of one app and tenant */
  maxWritesInWindow: number;
}

/**
 * Outlook's limits per app and mailbox: 4 concurrent requests and 10,000 requests per 10 minutes. Over either,
 * a 429 with Retry-After, as Outlook answers (`ApplicationThrottled` for concurrency, `TooManyRequests` for
 * the budget).
 */
@Injectable()
export class Throttle {
  private slots = new Map<string, Slot>();
  private subscriptionSlots = new Map<string, SubscriptionSlot>();
  private subscriptionStats: SubscriptionServiceStats = {
    requests: 0,
    writes: 0,
    throttled: 0,
    maxWritesInWindow: 0,
  };

  constructor(private readonly faults: FaultsService) {}

  /** admits the request or throws the 429; the returned function must be called when it completes */
  admit(appId: string, address: string): () => void {
    const t = this.faults.settings.throttling;
    if (!t.enabled) return () => {};
    const key = `${appId}\u0000${address}`;
    let slot = this.slots.get(key);
    const now = Date.now();
    if (!slot) {
      slot = { concurrent: 0, windowStart: now, count: 0 };
      this.slots.set(key, slot);
    }
    if (now - slot.windowStart >= t.windowSeconds * 1000) {
      slot.windowStart = now;
      slot.count = 0;
    }
    const retryAfter = { 'Retry-After': String(t.retryAfterSeconds) };
    if (slot.concurrent >= t.concurrency) {
      throw new GraphError(
        429,
        'ApplicationThrottled',
        'Application is over its MailboxConcurrency limit.',
        retryAfter,
      );
    }
    if (slot.count >= t.budget) {
      const wait = Math.max(1, Math.ceil((slot.windowStart + t.windowSeconds * 1000 - now) / 1000));
      throw tooManyRequests(wait);
    }
    slot.count++;
    slot.concurrent++;
    const s = slot;
    let released = false;
    return () => {
      if (!released) {
        released = true;
        s.concurrent--;
      }
    };
  }

  /**
   * Graph's subscription service limits per app and tenant (fixed windows of `windowSeconds`): a write (POST,
   * PATCH, DELETE) over `writes`, or any request over `requests`, is a 429 `TooManyRequests` with Retry-After to
   * the window's end. Refused requests do not count.
   */
  admitSubscriptionRequest(appId: string, tenantId: string, write: boolean): void {
    const t = this.faults.settings.subscriptionThrottling;
    const key = `${appId}\u0000${tenantId}`;
    const now = Date.now();
    let slot = this.subscriptionSlots.get(key);
    if (!slot || now - slot.windowStart >= t.windowSeconds * 1000) {
      slot = { windowStart: now, writes: 0, requests: 0 };
      this.subscriptionSlots.set(key, slot);
    }
    if (t.enabled && (slot.requests >= t.requests || (write && slot.writes >= t.writes))) {
      this.subscriptionStats.throttled++;
      throw tooManyRequests(Math.max(1, Math.ceil((slot.windowStart + t.windowSeconds * 1000 - now) / 1000)));
    }
    slot.requests++;
    this.subscriptionStats.requests++;
    if (write) {
      slot.writes++;
      this.subscriptionStats.writes++;
      if (slot.writes > this.subscriptionStats.maxWritesInWindow)
        this.subscriptionStats.maxWritesInWindow = slot.writes;
    }
  }

  subscriptionServiceStats(): SubscriptionServiceStats {
    return { ...this.subscriptionStats };
  }

  reset(): void {
    this.slots = new Map();
    this.subscriptionSlots = new Map();
    this.subscriptionStats = { requests: 0, writes: 0, throttled: 0, maxWritesInWindow: 0 };
  }
}
