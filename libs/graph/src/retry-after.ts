/** Statuses Microsoft asks clients to retry, honouring `Retry-After` (Graph throttling guidance). */
export const RETRYABLE_GRAPH_STATUSES: ReadonlySet<number> = new Set([429, 503, 504]);

export function isRetryableGraphStatus(status: number): boolean {
  return RETRYABLE_GRAPH_STATUSES.has(status);
}

/**
 * Milliseconds to wait from a `Retry-After` header: delta-seconds (Graph sends whole and fractional
 * values such as `10` and `2.128`) or an HTTP date. Missing or unreadable values give `fallbackMs`;
 * the result is clamped to `[0, maxMs]` so a hostile or broken header cannot park a worker for hours.
 */
export function retryAfterMs(
  header: string | null | undefined,
  opts: { fallbackMs: number; maxMs: number; now?: number },
): number {
  const clamp = (ms: number) => Math.min(Math.max(0, Math.ceil(ms)), opts.maxMs);
  if (!header) return clamp(opts.fallbackMs);
  const value = header.trim();
  if (/^\d+(\.\d+)?$/.test(value)) return clamp(Number(value) * 1000);
  const date = Date.parse(value);
  if (!Number.isNaN(date)) return clamp(date - (opts.now ?? Date.now()));
  return clamp(opts.fallbackMs);
}
