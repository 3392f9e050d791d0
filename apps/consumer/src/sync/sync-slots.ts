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
  /** pages of whole syncs waiting for the first screens (`yieldToFirstScreens`), oldest first */
  private readonly yielding: Array<() => void> = [];
  private passTimer: NodeJS.Timeout | undefined;

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
      if (this.screens === 0) {
        clearTimeout(this.passTimer);
        this.passTimer = undefined;
        for (const done of [...this.yielding]) done();
      }
    }
  }

  /**
   * Resolves once no first screen is being written in this process, or when this process's pass comes to the
   * caller, or when the signal aborts (the caller checks it). A whole sync awaits it before asking its provider for
   * the next page: while many mailboxes are linked at once, the pages of the few syncing in full (several folders
   * each, every one a stream of pages) would otherwise take the machine (provider, Postgres, CPU) from the first
   * screens of all the others. While first screens are being written, one waiting page goes on every `passMs`,
   * the longest-waiting first, whatever sync or folder it belongs to: what a steady stream of links costs the whole
   * syncs of a process is a page per `passMs` together, and no waiting page is passed over.
   */
  yieldToFirstScreens(passMs: number, signal: AbortSignal): Promise<void> {
    if (this.screens === 0 || passMs <= 0 || signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        signal.removeEventListener('abort', done);
        const i = this.yielding.indexOf(done);
        if (i >= 0) this.yielding.splice(i, 1);
        resolve();
      };
      signal.addEventListener('abort', done, { once: true });
      this.yielding.push(done);
      this.schedulePass(passMs);
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

  /** the next pass of a waiting page, unless one is due already */
  private schedulePass(passMs: number): void {
    if (this.passTimer) return;
    this.passTimer = setTimeout(() => {
      this.passTimer = undefined;
      this.yielding[0]?.();
      if (this.yielding.length > 0) this.schedulePass(passMs);
    }, passMs);
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
