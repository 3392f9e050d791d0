/**
 * Runs `fn` over `items` with at most `limit` at once. The first failure stops the others at their next
 * checkpoint (through the signal they are given) and is the one thrown.
 */
export async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  outer: AbortSignal,
  fn: (item: T, signal: AbortSignal) => Promise<void>,
): Promise<void> {
  const failure = new AbortController();
  const signal = AbortSignal.any([outer, failure.signal]);
  let next = 0;
  let failed = false;
  let firstError: unknown;
  const worker = async () => {
    while (!failed && next < items.length) {
      const item = items[next++];
      try {
        await fn(item, signal);
      } catch (err) {
        if (!failed) {
          failed = true;
          firstError = err;
          failure.abort(err);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed) throw firstError;
}

/** `fn` over `items`, at most `limit` at once, results in input order; the first failure is thrown. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

/**
 * Runs what it is given holding a set of keys: two runs whose keys overlap run one after the other (the later
 * one starts once none of its keys is held), others at once. A failure fails only its own run.
 */
export class KeyedSerial {
  private readonly held = new Map<string, Promise<void>>();

  async run<T>(keys: Iterable<string>, fn: () => Promise<T>): Promise<T> {
    const mine = [...new Set(keys)];
    for (;;) {
      const busy = mine.flatMap((k) => this.held.get(k) ?? []);
      if (busy.length === 0) break;
      await Promise.all(busy);
    }
    // taken in the same tick as the check above: no other run can take one of them in between
    let release = (): void => undefined;
    const done = new Promise<void>((resolve) => (release = resolve));
    for (const k of mine) this.held.set(k, done);
    try {
      return await fn();
    } finally {
      for (const k of mine) if (this.held.get(k) === done) this.held.delete(k);
      release();
    }
  }
}
