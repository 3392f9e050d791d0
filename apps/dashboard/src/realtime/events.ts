/**
 * The real-time socket's names and payloads, mirrored from `libs/contracts/src/realtime.ts` and
 * `libs/contracts/src/messages.ts` (the dashboard's bundler does not resolve `@email-core/contracts`). Keep them in
 * step with the contracts: the payload is the domain event exactly as the worker published it.
 */
export const REALTIME_PATH = '/api/v1/realtime';

export const RealtimeEvents = {
  syncProgress: 'sync.progress',
  syncCompleted: 'sync.completed',
  accountStatus: 'account.status',
  mailChanged: 'mail.changed',
  commandStatus: 'command.status',
} as const;

export type RealtimeEventName = (typeof RealtimeEvents)[keyof typeof RealtimeEvents];

export interface SyncProgressEvent {
  type: 'sync.progress';
  accountId: string;
  userId: string;
  foldersTotal: number;
  foldersDone: number;
  messagesSynced: number;
  at: string;
}

export interface SyncCompletedEvent {
  type: 'sync.completed';
  accountId: string;
  userId: string;
  folders: number;
  messages: number;
  at: string;
}

export interface AccountStatusEvent {
  type: 'account.status';
  accountId: string;
  userId: string;
  status: 'syncing' | 'synced' | 'reauth_required' | 'error';
  reason?: string;
  at: string;
}

export interface MailChange {
  seq: number;
  kind: 'upserted' | 'removed';
  messageId: string;
  folderId: string;
}

export interface MailChangedEvent {
  type: 'mail.changed';
  accountId: string;
  userId: string;
  /** the highest seq in `changes` */
  seq: number;
  changes: MailChange[];
  /** current counts of every folder the batch touched */
  folders: { folderId: string; totalCount: number; unreadCount: number }[];
  notifiedAt?: string;
  at: string;
}
