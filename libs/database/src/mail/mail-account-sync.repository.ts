import type { DataSource, EntityManager } from 'typeorm';
import { prepared } from '../prepared';

export type MailAccountStatus = 'syncing' | 'synced' | 'reauth_required' | 'error';

export interface AccountForSync {
  id: string;
  userId: string;
  status: MailAccountStatus;
  /** when a sync of the whole mailbox last completed; null until the first one did */
  syncCompletedAt?: Date | null;
  /** `mail_accounts.provider`: which adapter serves the account ('outlook' when not given) */
  provider?: string;
}

const STATUS_REASON_MAX = 500;

/** read at the start of every round and sync (`findForSync`) */
const FIND_FOR_SYNC_SQL = prepared(
  `SELECT id, user_id, status, sync_completed_at, provider FROM mail_accounts WHERE id = $1`,
);

/** A running sync's latest progress report (what its `sync.progress` event carried), kept on the account. */
export interface StoredSyncProgress {
  foldersTotal: number;
  foldersDone: number;
  messagesSynced: number;
  messagesTotal: number;
  /** when the report was made (ISO 8601) */
  at: string;
}

/** The sync workers' view of `mail_accounts`: who owns an account, and its sync status. Never its tokens. */
export class MailAccountSyncRepository {
  constructor(private readonly dataSource: DataSource) {}

  async findForSync(accountId: string): Promise<AccountForSync | null> {
    const rows: Array<{
      id: string;
      user_id: string;
      status: MailAccountStatus;
      sync_completed_at: Date | null;
      provider: string;
    }> = await this.dataSource.query(FIND_FOR_SYNC_SQL, [accountId]);
    const r = rows[0];
    return r
      ? {
          id: r.id,
          userId: r.user_id,
          status: r.status,
          syncCompletedAt: r.sync_completed_at,
          provider: r.provider,
        }
      : null;
  }

  /**
   * Marks a sync as started (status `syncing`) unless the account waits for its user to sign in again.
   * Returns the status it had before, or null when it was not changed (missing or `reauth_required`).
   * (Every statement here ends in a SELECT: TypeORM answers a bare UPDATE with `[rows, count]`.)
   */
  async markSyncStarted(accountId: string): Promise<MailAccountStatus | null> {
    const rows: Array<{ previous: MailAccountStatus }> = await this.dataSource.query(
      `WITH prev AS (SELECT id, status FROM mail_accounts WHERE id = $1 FOR NO KEY UPDATE),
       started AS (
         UPDATE mail_accounts a
         SET status = 'syncing', status_reason = NULL, sync_started_at = now(), sync_progress = NULL,
           updated_at = now()
         FROM prev
         WHERE a.id = prev.id AND prev.status <> 'reauth_required'
         RETURNING prev.status AS previous)
       SELECT previous FROM started`,
      [accountId],
    );
    return rows[0]?.previous ?? null;
  }

  /**
   * Keeps a running sync's latest progress report on the account, so `GET /accounts` carries it (a dashboard
   * reloaded mid-sync shows it at once). Only while the account is syncing; one row update per report, and reports
   * are throttled (SYNC_PROGRESS_EVERY_PAGES, SYNC_PROGRESS_MIN_INTERVAL_MS). A report older than the stored one
   * (by `at`) does not replace it.
   */
  async saveProgress(accountId: string, progress: StoredSyncProgress): Promise<void> {
    await this.dataSource.query(
      `WITH saved AS (
         UPDATE mail_accounts SET sync_progress = $2::jsonb
         WHERE id = $1 AND status = 'syncing'
           AND (sync_progress IS NULL OR sync_progress->>'at' <= $3)
         RETURNING 1)
       SELECT 1 FROM saved`,
      [accountId, JSON.stringify(progress), progress.at],
    );
  }

  /** `synced` with its completion time; an account that meanwhile needs re-authorization keeps that status. */
  async markSynced(manager: EntityManager | undefined, accountId: string): Promise<boolean> {
    const rows: unknown[] = await (manager ?? this.dataSource.manager).query(
      `WITH done AS (
         UPDATE mail_accounts
         SET status = 'synced', status_reason = NULL, sync_completed_at = now(), updated_at = now()
         WHERE id = $1 AND status <> 'reauth_required'
         RETURNING 1)
       SELECT 1 FROM done`,
      [accountId],
    );
    return rows.length > 0;
  }

  /** The refresh token no longer works: the user must link again. The account keeps its mail. */
  async markReauthRequired(accountId: string, reason: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE mail_accounts SET status = 'reauth_required', status_reason = $2, updated_at = now() WHERE id = $1`,
      [accountId, reason.slice(0, STATUS_REASON_MAX)],
    );
  }
}
