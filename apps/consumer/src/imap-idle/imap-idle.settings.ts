import {
  ImapIdleConnection,
  pollFolderStatuses,
  type FolderStatuses,
  type HostPolicy,
  type ImapIdleOptions,
  type ImapRequestCounter,
  type MailServerSettings,
} from '@email-core/providers';

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

/** The IMAP side of the watcher: an IDLE connection, a STATUS poll (the adapter's; tests give their own). */
export interface ImapWatchDriver {
  start(options: ImapIdleOptions): Promise<IdleConnectionHandle>;
  poll(server: MailServerSettings, policy: HostPolicy): Promise<FolderStatuses>;
}

/** what the watcher needs of an open IDLE connection */
export interface IdleConnectionHandle {
  /** settles when the connection is gone (with the reason) or closed by us (undefined) */
  readonly ended: Promise<Error | undefined>;
  /** true: the other folders' changes come through NOTIFY; false or absent: through STATUS polls */
  readonly notifying?: boolean;
  close(): Promise<void>;
}

export const IMAP_WATCH_DRIVER = Symbol('IMAP_WATCH_DRIVER');

/** The adapter's IDLE connection and STATUS poll, their connection attempts and operations counted in `requests`. */
export function imapWatchDriverWith(requests?: ImapRequestCounter): ImapWatchDriver {
  const counted = requests ? { requests } : {};
  return {
    start: (options) => ImapIdleConnection.start({ ...options, ...counted }),
    poll: (server, policy) => pollFolderStatuses(server, policy, counted),
  };
}
