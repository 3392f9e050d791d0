export interface GroupCommitOptions {
  /** a send carries at most this many bytes (estimated by the caller); one oversized entry still goes alone */
  maxBatchBytes: number;
}

interface Entry<T> {
  items: T[];
  bytes: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit: one send in flight at a time; whatever arrives meanwhile leaves together in the next send.
 * Each caller's promise settles with the send that carried its items: resolved once the send succeeded,
 * rejected with its error. Under load this turns N concurrent requests into a few large Kafka produce requests
 * (the idempotent producer allows one in flight), and when idle a lone request is sent at once, unbatched.
 */
export class GroupCommit<T> {
  private queue: Array<Entry<T>> = [];
  private sending = false;

  constructor(
    private readonly send: (items: T[]) => Promise<void>,
    private readonly opts: GroupCommitOptions,
  ) {}

  add(items: T[], bytes: number): Promise<void> {
    if (items.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ items, bytes, resolve, reject });
      if (!this.sending) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.sending = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.take();
        try {
          await this.send(batch.flatMap((e) => e.items));
          for (const e of batch) e.resolve();
        } catch (err) {
          for (const e of batch) e.reject(err);
        }
      }
    } finally {
      this.sending = false;
    }
  }

  /** the oldest entries, up to the byte budget (at least one) */
  private take(): Array<Entry<T>> {
    let bytes = 0;
    let n = 0;
    while (n < this.queue.length) {
      const next = this.queue[n];
      if (n > 0 && bytes + next.bytes > this.opts.maxBatchBytes) break;
      bytes += next.bytes;
      n += 1;
    }
    return this.queue.splice(0, n);
  }
}
