/** The mirror's tunables (from `ConsumerConfig.sync`): how folders are read and how progress is reported. */
export interface MirrorSettings {
  pageSize: number;
  folderParallelism: number;
  /** pages of one folder written at once in a first sync (committed in order) */
  pageWriters: number;
  /** a first sync writes the Inbox's newest this many messages before anything else (0: off) */
  firstScreenSize: number;
  progressEveryPages: number;
  progressMinIntervalMs: number;
}

export const MIRROR_SETTINGS = Symbol('MIRROR_SETTINGS');

/** The incremental rounds' tunables (pokes from any watcher, the reconciliation, mail actions). */
export interface RoundSettings {
  /** how long a round waits for the mailbox lock (a sync, or a round of another process) before it is retried */
  lockWaitMs: number;
  /** provider look-ups of poked messages per round at most; beyond, the round runs every folder instead */
  maxLookups: number;
  /** how long the change log keeps changes for reconnecting clients */
  changesRetentionHours: number;
  /** how often this process prunes the change log */
  pruneIntervalMs: number;
}

export const ROUND_SETTINGS = Symbol('ROUND_SETTINGS');
