import type { Sample } from '@email-core/metrics';

/** the metrics the live panel reads (the same series the Grafana dashboard charts) */
export const LIVE_SERIES = {
  syncWritten: 'email_core_sync_messages_written_total',
  providerRequests: 'email_core_provider_requests_total',
  webhookDuration: 'email_core_webhook_request_duration_seconds',
  httpDuration: 'email_core_http_request_duration_seconds',
} as const;

/** the webhook's route in the HTTP histogram (the fast lane's paths are named like the route) */
export const WEBHOOK_ROUTE = '/api/v1/graph/notifications';

/** One reading of every source: `own` is this producer's registry, the others each consumer's GET /metrics. */
export interface LiveSnapshot {
  /** ms since the epoch */
  at: number;
  /** source → its samples; a source that did not answer this time is absent */
  sources: Map<string, Sample[]>;
}

export const OWN_SOURCE = 'own';

const key = (s: Sample): string =>
  `${s.name}{${Object.entries(s.labels)
    .filter(([k]) => k !== 'le')
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',')}}${s.labels.le === undefined ? '' : `le=${s.labels.le}`}`;

const matches = (s: Sample, name: string, labels: Record<string, string>): boolean =>
  s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v);

/**
 * How much a counter's series grew between two readings of one source, as Prometheus' `increase` counts it
 * without extrapolation: a series that went down was reset (the process restarted), so its whole new value is
 * the growth; a series the older reading lacks appeared since (it was 0).
 */
export function increaseOf(
  older: readonly Sample[],
  newer: readonly Sample[],
  name: string,
  labels: Record<string, string> = {},
): Map<string, { sample: Sample; increase: number }> {
  const before = new Map(older.filter((s) => matches(s, name, labels)).map((s) => [key(s), s.value]));
  const out = new Map<string, { sample: Sample; increase: number }>();
  for (const s of newer) {
    if (!matches(s, name, labels)) continue;
    const was = before.get(key(s)) ?? 0;
    out.set(key(s), { sample: s, increase: s.value >= was ? s.value - was : s.value });
  }
  return out;
}

/** the sum of `increaseOf` over every series */
export function totalIncrease(
  older: readonly Sample[],
  newer: readonly Sample[],
  name: string,
  labels: Record<string, string> = {},
): number {
  let total = 0;
  for (const { increase } of increaseOf(older, newer, name, labels).values()) total += increase;
  return total;
}

/**
 * Prometheus' `histogram_quantile` on cumulative buckets (`le` → count, `+Inf` included): the bucket the rank
 * falls in, linear inside it; the highest finite bound when it falls in `+Inf`; null without observations.
 */
export function histogramQuantile(q: number, buckets: ReadonlyMap<number, number>): number | null {
  const sorted = [...buckets.entries()].sort(([a], [b]) => a - b);
  if (sorted.length < 2 || sorted[sorted.length - 1][0] !== Infinity) return null;
  const total = sorted[sorted.length - 1][1];
  if (total <= 0) return null;
  const rank = q * total;
  let i = sorted.findIndex(([, count]) => count >= rank);
  if (i === sorted.length - 1) return sorted[sorted.length - 2][0];
  if (i < 0) i = 0;
  const [upper, count] = sorted[i];
  const [lower, below] = i === 0 ? [0, 0] : sorted[i - 1];
  if (i === 0 && upper <= 0) return upper;
  const inBucket = count - below;
  return inBucket <= 0 ? upper : lower + (upper - lower) * ((rank - below) / inBucket);
}

/** a histogram's bucket growth between two readings, summed over its other labels: `le` → count */
export function bucketIncrease(
  older: readonly Sample[],
  newer: readonly Sample[],
  name: string,
  labels: Record<string, string> = {},
): Map<number, number> {
  const out = new Map<number, number>();
  for (const { sample, increase } of increaseOf(older, newer, `${name}_bucket`, labels).values()) {
    const le = sample.labels.le === '+Inf' ? Infinity : Number(sample.labels.le);
    out.set(le, (out.get(le) ?? 0) + increase);
  }
  return out;
}

export interface LiveFigures {
  /** seconds between the window's first and last reading (0: a single reading, no rates yet) */
  windowSeconds: number;
  /** messages written to the mirror in the window, over every consumer read; null: no consumer read twice */
  syncMessages: number | null;
  syncMessagesPerSecond: number | null;
  /** webhook POSTs this producer answered in the window */
  webhookRequests: number;
  /** their answer time's 95th percentile (s), null without any */
  webhookP95Seconds: number | null;
  /** provider answers 429 in the window, this producer's and the consumers' requests together */
  provider429s: number;
}

/**
 * The live panel's figures over the snapshots of the window (oldest first): per source, its first and last
 * reading in the window (a source that answered only once adds nothing yet).
 */
export function liveFigures(window: readonly LiveSnapshot[]): LiveFigures {
  const first = window[0];
  const last = window[window.length - 1];
  const windowSeconds = first && last ? (last.at - first.at) / 1000 : 0;
  const span = new Map<string, { older: LiveSnapshot; newer: LiveSnapshot }>();
  for (const snap of window) {
    for (const source of snap.sources.keys()) {
      const s = span.get(source);
      if (!s) span.set(source, { older: snap, newer: snap });
      else s.newer = snap;
    }
  }
  const pair = (source: string): [Sample[], Sample[], number] | undefined => {
    const s = span.get(source);
    if (!s || s.older === s.newer) return undefined;
    return [
      s.older.sources.get(source) ?? [],
      s.newer.sources.get(source) ?? [],
      (s.newer.at - s.older.at) / 1000,
    ];
  };

  let syncMessages: number | null = null;
  let syncRate: number | null = null;
  let provider429s = 0;
  for (const source of span.keys()) {
    const p = pair(source);
    if (!p) continue;
    const [older, newer, seconds] = p;
    provider429s += totalIncrease(older, newer, LIVE_SERIES.providerRequests, { status: '429' });
    if (source === OWN_SOURCE) continue;
    const written = totalIncrease(older, newer, LIVE_SERIES.syncWritten);
    syncMessages = (syncMessages ?? 0) + written;
    syncRate = (syncRate ?? 0) + (seconds > 0 ? written / seconds : 0);
  }

  let webhookRequests = 0;
  let webhookP95Seconds: number | null = null;
  const own = pair(OWN_SOURCE);
  if (own) {
    const [older, newer] = own;
    // the webhook's own answer-time histogram when the producer has it, else its route's HTTP histogram
    const dedicated = newer.some((s) => s.name === `${LIVE_SERIES.webhookDuration}_count`);
    const [name, labels] = dedicated
      ? [LIVE_SERIES.webhookDuration, {}]
      : [LIVE_SERIES.httpDuration, { route: WEBHOOK_ROUTE }];
    webhookRequests = totalIncrease(older, newer, `${name}_count`, labels);
    webhookP95Seconds = histogramQuantile(0.95, bucketIncrease(older, newer, name, labels));
  }

  return {
    windowSeconds,
    syncMessages,
    syncMessagesPerSecond: syncRate,
    webhookRequests,
    webhookP95Seconds,
    provider429s,
  };
}
