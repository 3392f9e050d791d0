export interface SyncProgressSnapshot {
  foldersTotal: number;
  foldersDone: number;
  messagesSynced: number;
  /** the mailbox's message count at the sync's start (Graph's folder totals) */
  messagesTotal: number;
}

export interface SyncTotals {
  foldersTotal: number;
  messagesTotal: number;
}

export interface SyncProgressRule {
  /** report after this many committed pages since the last report */
  everyPages: number;
  /** or after the first page committed at least this many ms after the last report (or the start) */
  minIntervalMs: number;
  /** the clock (ms); tests pass their own */
  now?: () => number;
}

/**
 * Counts committed pages across the folders synced in parallel and reports after a committed page when either
 * `everyPages` pages committed since the last report or `minIntervalMs` passed since it (or since the sync's
 * start): a small mailbox that never reaches `everyPages` pages still reports about twice a second while its
 * pages commit, a fast one is not flooded (at most one report per `everyPages` pages or per interval), and there
 * is never more than one report per page. No report is sent without a page: nothing changed since the last one.
 * Reports go out one at a time, in order (folders commit in parallel): a later snapshot is never published before
 * an earlier one, so a dashboard's bar never steps back. A report that fails is logged by the caller and never
 * fails the sync: progress is advisory.
 */
export class SyncProgress {
  private pagesSinceReport = 0;
  private foldersDone = 0;
  private messagesSynced = 0;
  private lastReportAt: number;
  /** the report in flight, if any: the next one waits for it */
  private reporting: Promise<void> = Promise.resolve();
  private inFlight = 0;
  private readonly now: () => number;

  constructor(
    private readonly totals: SyncTotals,
    private readonly rule: SyncProgressRule,
    private readonly report: (snapshot: SyncProgressSnapshot) => Promise<void>,
  ) {
    this.now = rule.now ?? Date.now;
    this.lastReportAt = this.now();
  }

  snapshot(): SyncProgressSnapshot {
    return {
      foldersTotal: this.totals.foldersTotal,
      foldersDone: this.foldersDone,
      messagesSynced: this.messagesSynced,
      messagesTotal: this.totals.messagesTotal,
    };
  }

  /** Call after the page's transaction committed. */
  async pageCommitted(messages: number, folderDone: boolean): Promise<void> {
    this.messagesSynced += messages;
    if (folderDone) this.foldersDone += 1;
    this.pagesSinceReport += 1;
    const at = this.now();
    if (this.pagesSinceReport < this.rule.everyPages && at - this.lastReportAt < this.rule.minIntervalMs) {
      return;
    }
    await this.reportNow();
  }

  /**
   * Reports the counts as they are, now (in order with the others): after something a dashboard should refetch
   * that no page counted (a first sync's first screen).
   */
  async reportNow(): Promise<void> {
    this.pagesSinceReport = 0;
    this.lastReportAt = this.now();
    const snapshot = this.snapshot();
    const send = () => this.report(snapshot);
    // at once when none is in flight (as the page's own events go out), else after the one in flight
    const sent = this.inFlight === 0 ? send() : this.reporting.then(send);
    this.inFlight += 1;
    this.reporting = sent
      .catch(() => undefined)
      .finally(() => {
        this.inFlight -= 1;
      });
    await sent;
  }
}
