import type { Counter, Histogram } from 'prom-client';
import type { MetricsRegistry } from './metrics-registry';

/** the statuses a provider answer is labelled with as they are; any other is its class (`2xx`, `4xx`, …) */
const NAMED_STATUSES = new Set([
  200, 201, 202, 204, 400, 401, 403, 404, 409, 410, 412, 429, 500, 502, 503, 504,
]);
/** an exchange that got no answer at all (network failure, timeout) */
export const NO_ANSWER = 'error';

/** the `status` label of an answer: bounded whatever a server sends */
export function statusLabel(status: number): string {
  if (NAMED_STATUSES.has(status)) return String(status);
  return status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'other';
}

/** Retry-After waits from Graph's usual 1-10 s to the minute the Graph clients wait out at most in-process */
const WAIT_BUCKETS = [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120];
/** in-flight requests of one mailbox: Outlook allows 4 per app and mailbox */
const IN_FLIGHT_BUCKETS = [1, 2, 3, 4, 6, 8, 16];

/** What a provider's client reports (GraphRequestObserver's shape), for one provider. */
export interface ProviderRequestObserver {
  answered(status: number): void;
  failed(): void;
  retryWait(seconds: number): void;
  started(inFlight: number): void;
}

/**
 * Requests to mail providers (Microsoft Graph; IMAP and SMTP through `outcomes`), in the process's registry:
 * answers by status (429s and 5xx countable), the throttling waits, and how many requests each mailbox had in
 * flight when one started. Labels:
 * the provider's name and the status only; a mailbox is never a label (in-flight counts go into a histogram).
 */
export class ProviderMetrics {
  private readonly requests: Counter<'provider' | 'status'>;
  private readonly waits: Histogram<'provider'>;
  private readonly inFlight: Histogram<'provider'>;

  constructor(registry: MetricsRegistry) {
    this.requests = registry.counter({
      name: 'provider_requests_total',
      help: "Requests to mail providers, by provider and status: Graph's HTTP exchanges (every attempt; the code for the usual ones, else its class, error without an answer), IMAP connection attempts and operations (ok, no, bad, auth_failed, timeout, error) and SMTP sends (ok, 4xx, 5xx, error).",
      labelNames: ['provider', 'status'],
    });
    this.waits = registry.histogram({
      name: 'provider_retry_wait_seconds',
      help: "Waits before sending a throttled or failed request again (429/503/504), the provider's Retry-After honoured (a backoff without one), by provider.",
      labelNames: ['provider'],
      buckets: WAIT_BUCKETS,
    });
    this.inFlight = registry.histogram({
      name: 'provider_mailbox_requests_in_flight',
      help: 'Requests of one mailbox in flight in this process when one of them starts (itself included), by provider: the per-mailbox concurrency, without a mailbox label.',
      labelNames: ['provider'],
      buckets: IN_FLIGHT_BUCKETS,
    });
  }

  /** the observer a provider's clients report to; its throttling series exist (at 0) from now on */
  forProvider(provider: string): ProviderRequestObserver {
    for (const status of ['429', '503', '504', NO_ANSWER]) this.requests.inc({ provider, status }, 0);
    return {
      answered: (status) => this.requests.inc({ provider, status: statusLabel(status) }),
      failed: () => this.requests.inc({ provider, status: NO_ANSWER }),
      retryWait: (seconds) => this.waits.observe({ provider }, seconds),
      started: (inFlight) => this.inFlight.observe({ provider }, inFlight),
    };
  }

  /**
   * A counter of `provider`'s requests whose outcome is one of `statuses` (a fixed set: IMAP's and SMTP's
   * outcomes are words, not HTTP codes); every one of its series exists (at 0) from now on.
   */
  outcomes<S extends string>(provider: string, statuses: readonly S[]): (status: S) => void {
    for (const status of statuses) this.requests.inc({ provider, status }, 0);
    return (status) => this.requests.inc({ provider, status });
  }
}
