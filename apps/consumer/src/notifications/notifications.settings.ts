/** The notification rounds' tunables. */
export interface NotificationSettings {
  /** how long a round waits for the mailbox lock (a sync or another round) before it goes to the retry path */
  lockWaitMs: number;
  /** Graph look-ups of notified messages per round at most; beyond, the round runs every folder instead */
  maxLookups: number;
  /** how long the change log keeps changes for reconnecting clients */
  changesRetentionHours: number;
  /** how often this process prunes the change log */
  pruneIntervalMs: number;
}

export const NOTIFICATION_SETTINGS = Symbol('NOTIFICATION_SETTINGS');
