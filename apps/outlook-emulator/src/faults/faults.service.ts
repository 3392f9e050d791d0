import { Injectable } from '@nestjs/common';

export interface ThrottlingSettings {
  enabled: boolean;
  /** concurrent requests per app and mailbox (Outlook: 4) */
  concurrency: number;
  /** requests per app and mailbox per window (Outlook: 10,000 per 10 minutes) */
  budget: number;
  windowSeconds: number;
  retryAfterSeconds: number;
}

/**
 * Graph's subscription service limits (GDOCS throttling-limits, "Subscription service limits"), per app and
 * tenant: 1,000 writes (POST, PATCH, DELETE) and 5,000 requests of any kind per 20 seconds. Over either, a 429
 * `TooManyRequests` with Retry-After to the window's end. Not Outlook's per-mailbox limits: a subscription call
 * does not count against those.
 */
export interface SubscriptionThrottlingSettings {
  enabled: boolean;
  /** POST, PATCH and DELETE on /subscriptions per app and tenant per window (Graph: 1,000 per 20 s) */
  writes: number;
  /** requests of any method on /subscriptions per app and tenant per window (Graph: 5,000 per 20 s) */
  requests: number;
  windowSeconds: number;
}

export interface NotificationFaults {
  /** probability a change notification is dropped */
  drop: number;
  /** probability a change notification is delivered twice */
  duplicate: number;
  /** added delay before delivery, ms */
  delayMs: number;
  /** shuffle the items of each batch */
  reorder: boolean;
}

export interface FaultSettings {
  throttling: ThrottlingSettings;
  subscriptionThrottling: SubscriptionThrottlingSettings;
  /** probability of an injected error per Graph request, with its status drawn from `statuses` */
  randomErrors: { rate: number; statuses: number[]; retryAfterSeconds: number };
  /** deterministic: the next `count` Graph requests answer `status` (then the fault clears itself) */
  failNext: { count: number; status: number; retryAfterSeconds: number };
  /** added latency per Graph request, ms */
  latencyMs: number;
  notifications: NotificationFaults;
  /** access token lifetime, seconds (3599 as Microsoft) */
  accessTokenLifetimeSeconds: number;
}

export function defaultFaults(throttlingEnabled: boolean): FaultSettings {
  return {
    throttling: {
      enabled: throttlingEnabled,
      concurrency: 4,
      budget: 10000,
      windowSeconds: 600,
      retryAfterSeconds: 1,
    },
    subscriptionThrottling: { enabled: throttlingEnabled, writes: 1000, requests: 5000, windowSeconds: 20 },
    randomErrors: { rate: 0, statuses: [429, 503, 504], retryAfterSeconds: 1 },
    failNext: { count: 0, status: 429, retryAfterSeconds: 1 },
    latencyMs: 0,
    notifications: { drop: 0, duplicate: 0, delayMs: 0, reorder: false },
    accessTokenLifetimeSeconds: 3599,
  };
}

/** the switchable faults; every part of the emulator reads the current settings from here */
@Injectable()
export class FaultsService {
  settings: FaultSettings;
  private readonly initialThrottling: boolean;

  constructor(throttlingEnabled = true) {
    this.initialThrottling = throttlingEnabled;
    this.settings = defaultFaults(throttlingEnabled);
  }

  /** deep-merges a partial update (objects merge, everything else replaces) */
  update(patch: Record<string, unknown>): FaultSettings {
    const merge = (target: Record<string, unknown>, src: Record<string, unknown>) => {
      for (const [k, v] of Object.entries(src)) {
        const cur = target[k];
        if (
          v &&
          typeof v === 'object' &&
          !Array.isArray(v) &&
          cur &&
          typeof cur === 'object' &&
          !Array.isArray(cur)
        ) {
          merge(cur as Record<string, unknown>, v as Record<string, unknown>);
        } else if (k in target) {
          target[k] = v;
        }
      }
    };
    merge(this.settings as unknown as Record<string, unknown>, patch);
    return this.settings;
  }

  reset(): void {
    this.settings = defaultFaults(this.initialThrottling);
  }
}
