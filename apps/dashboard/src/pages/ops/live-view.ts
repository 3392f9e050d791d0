import type { LiveMetrics } from '@/hooks/use-ops';

const rateFormat = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const countFormat = new Intl.NumberFormat();

/** `0 msg/s`, `0.4 msg/s`, `1,250 msg/s`; `—` when there is no figure */
export function formatRate(perSecond: number | null): string {
  if (perSecond === null) return '—';
  return `${rateFormat.format(perSecond >= 10 ? Math.round(perSecond) : perSecond)} msg/s`;
}

/** a latency in seconds as `12 ms` or `2.5 s`; `—` when there is none */
export function formatLatency(seconds: number | null): string {
  if (seconds === null) return '—';
  const ms = seconds * 1000;
  if (ms < 1000) return `${Math.max(1, Math.round(ms))} ms`;
  return `${rateFormat.format(seconds)} s`;
}

/** the window the figures cover: `last 55 s`; before a second reading, `measuring…` */
export function windowText(live: Pick<LiveMetrics, 'windowSeconds'>): string {
  return live.windowSeconds > 0 ? `last ${Math.round(live.windowSeconds)} s` : 'measuring…';
}

/**
 * Why the sync rate has no figure, or null when it has one: no consumer configured (OPS_CONSUMER_METRICS_URLS
 * unset), none reachable, or not read twice yet.
 */
export function syncRateGap(live: Pick<LiveMetrics, 'syncMessagesPerSecond' | 'consumers'>): string | null {
  if (live.syncMessagesPerSecond !== null) return null;
  if (live.consumers.length === 0) return 'no consumer metrics configured (OPS_CONSUMER_METRICS_URLS)';
  if (!live.consumers.some((c) => c.reachable)) {
    const failing = live.consumers.length === 1 ? 'the consumer' : `${live.consumers.length} consumers`;
    return `${failing} not reachable`;
  }
  return 'measuring…';
}

/** `12 answers` / `1 answer` */
export function plural(n: number, one: string, many: string): string {
  return `${countFormat.format(n)} ${n === 1 ? one : many}`;
}

/** the points of a sparkline (SVG polyline) for values over a width and height; the top is the largest value */
export function sparklinePoints(values: readonly number[], width: number, height: number): string {
  if (values.length === 0) return '';
  const top = Math.max(...values, 0);
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  return values
    .map((v, i) => {
      const y = top > 0 ? height - (v / top) * height : height;
      return `${Math.round(i * step * 10) / 10},${Math.round(y * 10) / 10}`;
    })
    .join(' ');
}
