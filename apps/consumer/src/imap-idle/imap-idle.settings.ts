/** How the IMAP watcher runs (from `config.imapIdle`; tests shorten the timings). */
export interface ImapIdleSettings {
  /** false: no watcher in this process */
  enabled: boolean;
  /** IDLE connections this process keeps at most; accounts beyond it are polled */
  maxConnections: number;
  /** STATUS polls: the other folders of an IDLE account, every folder of a polled one */
  statusPollMs: number;
  /** how often the linked IMAP accounts are read again (new links, unlinks, re-links) */
  accountsRefreshMs: number;
  /** a burst of changes of one account becomes one poke once it has been quiet this long... */
  coalesceQuietMs: number;
  /** ...or this long after its first change, whichever comes first */
  coalesceMaxDelayMs: number;
  /** reconnect backoff: the first wait, and the longest */
  reconnectBaseMs: number;
  reconnectMaxMs: number;
  /** polls of accounts beyond the budget running at once */
  pollConcurrency: number;
}

export const IMAP_IDLE_SETTINGS = Symbol('IMAP_IDLE_SETTINGS');
