/** The sync's tunables (from `ConsumerConfig.sync`). */
export interface SyncSettings {
  pageSize: number;
  folderParallelism: number;
  progressEveryPages: number;
  progressMinIntervalMs: number;
}

export const SYNC_SETTINGS = Symbol('SYNC_SETTINGS');
