import { Injectable } from '@nestjs/common';
import { FaultsService } from '../faults/faults.service';
import { GraphError, tooManyRequests } from './graph-error';

interface Slot {
  concurrent: number;
  windowStart: number;
  count: number;
}

/**
 * Outlook's limits per app and mailbox: 4 concurrent requests and 10,000 requests per 10 minutes. Over either,
 * a 429 with Retry-After, as Outlook answers (`ApplicationThrottled` for concurrency, `TooManyRequests` for
 * the budget).
 */
@Injectable()
export class Throttle {
  private slots = new Map<string, Slot>();

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

  reset(): void {
    this.slots = new Map();
  }
}
