/** Injection token: how many mailboxes this process syncs in full at once (`SYNC_CONCURRENT_PARTITIONS`). */
export const SYNC_SLOTS = Symbol('SYNC_SLOTS');

/** Gives a slot back; calling it again does nothing. */
export type ReleaseSlot = () => void;

/**
 * The whole-mailbox syncs this process runs at once, first come first served. A sync request is taken from Kafka
 * as soon as it arrives (whatever runs on its partition), so a mailbox linked among many shows its first screen
 * at once; what then waits here, in arrival order, is the rest of its sync, bounding memory and sharing the
 * machine fairly between mailboxes.
 */
export class SyncSlots {
  private free: number;
  private readonly waiting: Array<(release: ReleaseSlot) => void> = [];
  /** first screens being written ahead of their sync (`firstScreen`) */
  private screens = 0;
  private readonly screensDone = new Set<() => void>();

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError(`size must be a positive integer, got ${size}`);
    this.free = size;
  }

  /** a slot now, or undefined when every slot is taken */
  tryAcquire(): ReleaseSlot | undefined {
    if (this.free === 0) return undefined;
    this.free -= 1;
    return this.releaser();
  }

  /** a slot, after the syncs that asked before; rejects with the signal's reason if it aborts first */
  acquire(signal: AbortSignal): Promise<ReleaseSlot> {
    signal.throwIfAborted();
    const now = this.tryAcquire();
    if (now) return Promise.resolve(now);
    return new Promise<ReleaseSlot>((resolve, reject) => {
      const grant = (release: ReleaseSlot) => {
        signal.removeEventListener('abort', onAbort);
        resolve(release);
      };
      const onAbort = () => {
        const i = this.waiting.indexOf(grant);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(grant);
    });
  }

  /**
   * Runs a mailbox's first screen (written ahead while its sync waits for a slot), counted, so the whole syncs in
   * the slots can give way to it (`yieldToFirstScreens`).
   */
  async firstScreen<T>(write: () => Promise<T>): Promise<T> {
    this.screens += 1;
    try {
      return await write();
    } finally {
      this.screens -= 1;
      if (this.screens === 0) for (const done of [...this.screensDone]) done();
    }
  }

  /**
   * Resolves once no first screen is being written in this process, or after `maxWaitMs`, or when the signal
   * aborts (the caller checks it). A whole sync awaits it before asking its provider for the next page: while many
   * mailboxes are linked at once, the pages of the few syncing in full would otherwise take the machine (provider,
   * Postgres, CPU) from the first screens of all the others. `maxWaitMs` bounds what a steady stream of links can
   * cost a sync: a page every `maxWaitMs` at worst.
   */
  yieldToFirstScreens(maxWaitMs: number, signal: AbortSignal): Promise<void> {
    if (this.screens === 0 || maxWaitMs <= 0 || signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.screensDone.delete(done);
        resolve();
      };
      const timer = setTimeout(done, maxWaitMs);
      signal.addEventListener('abort', done, { once: true });
      this.screensDone.add(done);
    });
  }

  /** first screens being written ahead now */
  get firstScreens(): number {
    return this.screens;
  }

  /** syncs waiting for a slot */
  get queued(): number {
    return this.waiting.length;
  }

  private releaser(): ReleaseSlot {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next(this.releaser());
      else this.free += 1;
    };
  }
}
