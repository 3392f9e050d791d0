/**
 * The wait before reconnect attempt `attempt` (0 = the first after a loss): exponential from `baseMs`, capped at
 * `maxMs`, with "equal jitter" (half of it fixed, half random) so a mail server that dropped every connection at
 * once is not hit by all of them again at the same instant, and no wait is ever near zero.
 */
export function reconnectDelayMs(
  attempt: number,
  opts: { baseMs: number; maxMs: number },
  random: () => number = Math.random,
): number {
  const exp = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.max(0, Math.min(attempt, 30)));
  const half = exp / 2;
  return Math.round(half + half * Math.min(1, Math.max(0, random())));
}
