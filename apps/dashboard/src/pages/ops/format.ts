import { useEffect, useState } from 'react';

const count = new Intl.NumberFormat();
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

const UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
  ['second', 1_000],
];

/**
 * `in 2 days`, `5 minutes ago`, `now`: the largest unit that fits. With `past`, a time a little ahead of `now`
 * (the clock ticks every few seconds; the server's may differ) reads as `now`, never as the future.
 */
export function relativeTime(iso: string, now: number, past = false): string {
  const raw = Date.parse(iso) - now;
  const diff = past ? Math.min(raw, 0) : raw;
  for (const [unit, ms] of UNITS) {
    if (Math.abs(diff) >= ms || unit === 'second') return relative.format(Math.round(diff / ms), unit);
  }
  return relative.format(0, 'second');
}

export function absoluteTime(iso: string): string {
  return absolute.format(new Date(iso));
}

export function formatCount(n: number): string {
  return count.format(n);
}

/** A topic or group id without the deployment's prefix (the full id stays in a tooltip). */
export function withoutPrefix(name: string, prefix: string): string {
  return prefix && name.startsWith(prefix) ? name.slice(prefix.length) : name;
}

/** JSON pretty-printed; anything else as it is. */
export function prettyPayload(payload: string): string {
  try {
    return JSON.stringify(JSON.parse(payload) as unknown, null, 2);
  } catch {
    return payload;
  }
}

/** The current time, ticking every `intervalMs`, so relative times stay true while the page is open. */
export function useNow(intervalMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(id);
  }, [intervalMs]);
  return now;
}
