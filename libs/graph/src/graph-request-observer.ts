/**
 * What the Graph middleware tells about its requests, for metrics (GraphLibModule wires the process's
 * `ProviderMetrics` in; without one nothing is told). Never told which mailbox: only counts and durations.
 */
export interface GraphRequestObserver {
  /** one HTTP exchange answered with `status` (every attempt: a 429 retried three times is three calls) */
  answered(status: number): void;
  /** one HTTP exchange that got no answer (network failure, timeout) */
  failed(): void;
  /** a wait before sending a 429/503/504 again, `Retry-After` honoured (or the backoff without one), in seconds */
  retryWait(seconds: number): void;
  /** a request of a mailbox starts, holding its permit: how many of the mailbox's requests are in flight now, itself included */
  started(inFlight: number): void;
}
