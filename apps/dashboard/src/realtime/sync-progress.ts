import { useSyncExternalStore } from 'react';
import type { SyncCompletedEvent, SyncProgressEvent } from './events';

/**
 * The latest sync progress per account, as the socket reports it: `sync.progress` events (a snapshot each: the
 * latest wins) and the final total from `sync.completed`. After a reload, `GET /accounts` carries a running sync's
 * latest report (`syncProgress`) until the socket's next one: {@link withStoredProgress} picks the newer.
 */
export interface SyncProgressState {
  foldersTotal: number;
  foldersDone: number;
  messagesSynced: number;
  /** the mailbox's message count when the sync started (0 when unknown, e.g. an empty mailbox) */
  messagesTotal: number;
  /** set by `sync.completed` */
  completed: boolean;
  at: string;
}

let state: ReadonlyMap<string, SyncProgressState> = new Map();
const listeners = new Set<() => void>();

function publish(next: ReadonlyMap<string, SyncProgressState>): void {
  state = next;
  for (const l of listeners) l();
}

export const syncProgressStore = {
  progress(e: SyncProgressEvent): void {
    const previous = state.get(e.accountId);
    // snapshots can arrive out of order after a reconnect: keep the newest
    if (previous && previous.at > e.at) return;
    const next = new Map(state);
    next.set(e.accountId, {
      foldersTotal: e.foldersTotal,
      foldersDone: e.foldersDone,
      messagesSynced: e.messagesSynced,
      messagesTotal: e.messagesTotal,
      completed: false,
      at: e.at,
    });
    publish(next);
  },
  completed(e: SyncCompletedEvent): void {
    const next = new Map(state);
    next.set(e.accountId, {
      foldersTotal: e.folders,
      foldersDone: e.folders,
      messagesSynced: e.messages,
      messagesTotal: e.messages,
      completed: true,
      at: e.at,
    });
    publish(next);
  },
  /** a new sync started (account.status syncing): forget the previous run's figures */
  restarted(accountId: string): void {
    if (!state.has(accountId)) return;
    const next = new Map(state);
    next.delete(accountId);
    publish(next);
  },
  clear(): void {
    if (state.size) publish(new Map());
  },
  snapshot,
};

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function snapshot(): ReadonlyMap<string, SyncProgressState> {
  return state;
}

/** a running sync's latest report as `GET /accounts` carries it (`AccountDto.syncProgress`) */
export interface StoredSyncProgress {
  foldersTotal: number;
  foldersDone: number;
  messagesSynced: number;
  messagesTotal: number;
  at: string;
}

/** The newer of the socket's latest progress and the one `GET /accounts` answered (by report time). */
export function withStoredProgress(
  live: SyncProgressState | undefined,
  stored: StoredSyncProgress | null | undefined,
): SyncProgressState | undefined {
  if (!stored || (live && live.at >= stored.at)) return live;
  return { ...stored, completed: false };
}

/** Every account's latest progress, re-rendering on each event. */
export function useSyncProgress(): ReadonlyMap<string, SyncProgressState> {
  return useSyncExternalStore(subscribe, snapshot);
}
