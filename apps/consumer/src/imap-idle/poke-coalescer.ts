import type { MailboxPokeChange } from '@email-core/contracts';

/** What one account's burst adds up to: the folders that changed (each kind once), or every folder. */
export interface CoalescedPoke {
  changes: MailboxPokeChange[];
  everyFolder: boolean;
}

export type WatchedChange =
  | { kind: MailboxPokeChange['kind']; folder: string }
  /** every folder (a reconnect, a folder that appeared or vanished) */
  | { kind: 'everyFolder' };

export interface PokeCoalescerOptions {
  /** flush once no change came for this long... */
  quietMs: number;
  /** ...or this long after the burst's first change */
  maxDelayMs: number;
  /** the burst of an account, once */
  flush: (accountId: string, poke: CoalescedPoke) => void;
}

interface Pending {
  changes: Map<string, MailboxPokeChange>;
  everyFolder: boolean;
  firstAt: number;
  timer: NodeJS.Timeout;
}

/**
 * Turns an account's changes into as few pokes as correctness allows: a 500-message delivery is 500 EXISTS
 * responses but one poke ("INBOX: created"). Changes are kept per account, each (kind, folder) once, and flushed
 * when the account has been quiet for `quietMs`, or `maxDelayMs` after the first change of the burst (a steady
 * trickle still gets through).
 */
export class PokeCoalescer {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly options: PokeCoalescerOptions,
    private readonly now: () => number = Date.now,
  ) {}

  add(accountId: string, change: WatchedChange): void {
    let p = this.pending.get(accountId);
    if (!p) {
      p = { changes: new Map(), everyFolder: false, firstAt: this.now(), timer: undefined as never };
      this.pending.set(accountId, p);
    } else {
      clearTimeout(p.timer);
    }
    if (change.kind === 'everyFolder') {
      p.everyFolder = true;
    } else {
      p.changes.set(`${change.kind}\u0000${change.folder}`, { kind: change.kind, folderId: change.folder });
    }
    const wait = Math.max(
      0,
      Math.min(this.options.quietMs, p.firstAt + this.options.maxDelayMs - this.now()),
    );
    p.timer = setTimeout(() => this.flush(accountId), wait);
    p.timer.unref();
  }

  /** flushes one account's burst now (no-op without one) */
  flush(accountId: string): void {
    const p = this.pending.get(accountId);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(accountId);
    this.options.flush(accountId, { changes: [...p.changes.values()], everyFolder: p.everyFolder });
  }

  /** flushes every account's burst (shutdown) */
  flushAll(): void {
    for (const accountId of [...this.pending.keys()]) this.flush(accountId);
  }

  /** forgets an account's burst without flushing it */
  drop(accountId: string): void {
    const p = this.pending.get(accountId);
    if (p) clearTimeout(p.timer);
    this.pending.delete(accountId);
  }

  get size(): number {
    return this.pending.size;
  }
}
