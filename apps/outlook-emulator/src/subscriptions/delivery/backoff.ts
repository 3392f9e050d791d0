/** the wait before retrying after failed attempt number `failedAttempt` (1-based): base, 2 x base, 4 x base ... capped */
export function retryDelayMs(failedAttempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, failedAttempt - 1));
}

/** Fisher-Yates, in place */
export function shuffle<T>(items: T[], random: () => number = Math.random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}
