import { trimOldest } from './subscription-routes';

export interface UnknownIdBudgetOptions {
  /** unknown subscription ids one source may send per window */
  limit: number;
  windowMs?: number;
  /** sources tracked at most; the oldest window goes first */
  maxSources?: number;
  now?: () => number;
}

interface Window {
  spent: number;
  endsAt: number;
}

/**
 * A per-source-IP budget of unknown subscription ids (issue 16): Graph names the subscriptions we created, so an
 * address that keeps naming others is guessing or flooding. Once a source has sent `limit` unknown ids in the
 * current window, the webhook answers its POSTs that would need a lookup 429 (`Retry-After` = the window's
 * rest) until the window ends; POSTs that name only subscriptions known from memory still pass, so real
 * notifications sharing that address (behind a proxy) keep flowing. In-process, like the route cache: each API
 * instance keeps its own budget (a fixed window per source, at most `maxSources` tracked).
 */
export class UnknownIdBudget {
  private readonly windows = new Map<string, Window>();
  private readonly windowMs: number;
  private readonly maxSources: number;
  private readonly now: () => number;

  constructor(private readonly opts: UnknownIdBudgetOptions) {
    this.windowMs = opts.windowMs ?? 60_000;
    this.maxSources = opts.maxSources ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  /** Seconds until `source` may send unknown ids again, or undefined while it is within its budget. */
  exhausted(source: string): number | undefined {
    const w = this.current(source);
    if (!w || w.spent < this.opts.limit) return undefined;
    return Math.max(1, Math.ceil((w.endsAt - this.now()) / 1000));
  }

  /** Counts `count` unknown ids sent by `source`. */
  spend(source: string, count: number): void {
    if (count <= 0) return;
    let w = this.current(source);
    if (!w) {
      w = { spent: 0, endsAt: this.now() + this.windowMs };
      this.windows.set(source, w);
      if (this.windows.size > this.maxSources) {
        trimOldest(this.windows, Math.floor(this.maxSources * 0.9));
      }
    }
    w.spent += count;
  }

  private current(source: string): Window | undefined {
    const w = this.windows.get(source);
    if (w && w.endsAt <= this.now()) {
      this.windows.delete(source);
      return undefined;
    }
    return w;
  }
}
