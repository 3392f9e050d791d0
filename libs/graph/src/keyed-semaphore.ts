/** Gives a permit back; calling it more than once is harmless. */
export type Release = () => void;

/** A second, deployment-wide stage of the limit (see ClusterMailboxPermits): resolves once a permit is held. */
export interface ClusterPermits {
  acquire(key: string, limit: number): Promise<Release>;
}

interface Slot {
  active: number;
  waiters: Array<() => void>;
}

/**
 * A counting semaphore per key (FIFO): at most `limit` holders per key at once, keys independent of each other.
 * The Graph clients of one process share one instance keyed by account id, so a mailbox never has more than
 * `limit` requests in flight from this process however many clients, folders or handlers work on it.
 * Idle keys are forgotten, so memory stays proportional to the mailboxes being worked on.
 */
export class KeyedSemaphore {
  private readonly slots = new Map<string, Slot>();
  private cluster?: ClusterPermits;

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`semaphore limit must be a positive integer`);
  }

  /**
   * Also counts the limit across processes: after its local permit, a holder waits for one of `limit` permits
   * of `cluster` (every process of the deployment shares them). `undefined` goes back to this process alone.
   */
  useCluster(cluster: ClusterPermits | undefined): void {
    this.cluster = cluster;
  }

  /** One permit of `key`: this process's, then (with `useCluster`) the deployment's. */
  async acquire(key: string): Promise<Release> {
    const local = await this.acquireLocal(key);
    const cluster = this.cluster;
    if (!cluster) return local;
    let shared: Release;
    try {
      shared = await cluster.acquire(key, this.limit);
    } catch (err) {
      local();
      throw err;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      shared();
      local();
    };
  }

  private async acquireLocal(key: string): Promise<Release> {
    let slot = this.slots.get(key);
    if (!slot) {
      slot = { active: 0, waiters: [] };
      this.slots.set(key, slot);
    }
    if (slot.active < this.limit) {
      slot.active++;
    } else {
      const queued = slot;
      // the releasing holder hands its permit straight to us (active stays the same)
      await new Promise<void>((resolve) => queued.waiters.push(resolve));
    }
    return this.releaser(key);
  }

  /** Runs `fn` holding one permit of `key`. */
  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const release = await this.acquire(key);
    try {
      return await fn();
    } finally {
      release();
    }
  }

  /** Permits in use and callers waiting, for one key (0/0 when idle). */
  stats(key: string): { active: number; waiting: number } {
    const slot = this.slots.get(key);
    return { active: slot?.active ?? 0, waiting: slot?.waiters.length ?? 0 };
  }

  private releaser(key: string): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const slot = this.slots.get(key);
      if (!slot) return;
      const next = slot.waiters.shift();
      if (next) {
        next();
        return;
      }
      slot.active--;
      if (slot.active === 0) this.slots.delete(key);
    };
  }
}

/** Microsoft's Outlook limit: 4 concurrent requests per app and mailbox (graph-contract §5). */
export const MAX_CONCURRENT_REQUESTS_PER_MAILBOX = 4;

/** The process-wide limiter every GraphMailClient uses unless it is given its own. */
export const sharedMailboxLimiter = new KeyedSemaphore(MAX_CONCURRENT_REQUESTS_PER_MAILBOX);
