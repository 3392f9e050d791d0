export interface SyncProgressSnapshot {
  foldersTotal: number;
  foldersDone: number;
  messagesSynced: number;
}

/**
 * Counts committed pages across the folders synced in parallel and reports at most every `everyPages` pages.
 * A report that fails is logged by the caller and never fails the sync: progress is advisory.
 */
export class SyncProgress {
  private pagesSinceReport = 0;
  private foldersDone = 0;
  private messagesSynced = 0;

  constructor(
    private readonly foldersTotal: number,
    private readonly everyPages: number,
    private readonly report: (snapshot: SyncProgressSnapshot) => Promise<void>,
  ) {}

  snapshot(): SyncProgressSnapshot {
    return {
      foldersTotal: this.foldersTotal,
      foldersDone: this.foldersDone,
      messagesSynced: this.messagesSynced,
    };
  }

  /** Call after the page's transaction committed. */
  async pageCommitted(messages: number, folderDone: boolean): Promise<void> {
    this.messagesSynced += messages;
    if (folderDone) this.foldersDone += 1;
    this.pagesSinceReport += 1;
    if (this.pagesSinceReport < this.everyPages) return;
    this.pagesSinceReport = 0;
    await this.report(this.snapshot());
  }
}

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
