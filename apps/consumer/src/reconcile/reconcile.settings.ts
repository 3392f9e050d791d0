/** The periodic reconciliation's tunables. */
export interface ReconcileSettings {
  /** time between two reconciliations of the whole deployment (whichever worker claims it); 0: off */
  intervalMs: number;
  /** the claim's name, unique per deployment sharing the Redis Cluster (the Kafka topic prefix is part of it) */
  claimKey: string;
  /** accounts read (and pokes published) per page */
  pageSize: number;
  /**
   * the share of the interval a round's pokes are spread over (0 or absent: all at once): ten thousand rounds asked
   * at once queue ahead of every live change in the pokes partitions for as long as they take
   */
  spreadShare?: number;
}

export const RECONCILE_SETTINGS = Symbol('RECONCILE_SETTINGS');

/**
 * How often each worker looks whether a reconciliation is due: a fraction of the interval (so a claim that just
 * expired is taken soon after), at least 1 s and at most a minute.
 */
export function checkEveryMs(intervalMs: number): number {
  return Math.min(60_000, Math.max(1000, Math.floor(intervalMs / 5)));
}
