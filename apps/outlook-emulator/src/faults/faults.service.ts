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
