import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { StoredSyncProgress } from '../mail/mail-account-sync.repository';

type MailAccountStatus = 'syncing' | 'synced' | 'reauth_required' | 'error';

/** What a user may see of one of their linked accounts: never a token column. */
export interface MailAccountSummary {
  id: string;
  provider: string;
  email: string;
  displayName: string;
  status: MailAccountStatus;
  statusReason: string | null;
  syncStartedAt: Date | null;
  syncCompletedAt: Date | null;
  /** the running sync's latest progress report; null when not syncing or before its first report */
  syncProgress: StoredSyncProgress | null;
  /** the account's signature, sanitized HTML; null: none */
  signatureHtml: string | null;
  createdAt: Date;
}

export interface LinkedAccountInput {
  userId: string;
  provider: 'outlook' | 'imap';
  /** the provider's stable id of the mailbox owner (Graph `/me` id; the lower-cased address for IMAP) */
  externalUserId: string;
  email: string;
  displayName: string;
}

export interface UpsertLinkedResult {
  id: string;
  /** false: the user had linked this mailbox before, and it was re-linked */
  created: boolean;
}

interface SummaryRow {
  id: string;
  provider: string;
  email: string;
  display_name: string;
  status: MailAccountStatus;
  status_reason: string | null;
  sync_started_at: Date | null;
  sync_completed_at: Date | null;
  sync_progress: StoredSyncProgress | null;
  signature_html: string | null;
  created_at: Date;
}

// The allow-list of columns a summary reads; token columns are deliberately absent.
const SUMMARY_COLUMNS = `id, provider, email, display_name, status, status_reason, sync_started_at,
  sync_completed_at, CASE WHEN status = 'syncing' THEN sync_progress END AS sync_progress, signature_html,
  created_at`;

const toSummary = (r: SummaryRow): MailAccountSummary => ({
  id: r.id,
  provider: r.provider,
  email: r.email,
  displayName: r.display_name,
  status: r.status,
  statusReason: r.status_reason,
  syncStartedAt: r.sync_started_at,
  syncCompletedAt: r.sync_completed_at,
  syncProgress: r.sync_progress,
  signatureHtml: r.signature_html,
  createdAt: r.created_at,
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Intent-level access to `mail_accounts`. Every read and delete is scoped by the owning user, so another
 * user's account id behaves exactly like one that does not exist. Token columns belong to the token vault.
 */
export class MailAccountsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Inside the caller's transaction: creates the account, or, when the user had linked this mailbox before,
   * refreshes its identity and puts it back to `syncing` (the mirror is kept; the sync resumes from its links).
   */
  async upsertLinked(manager: EntityManager, input: LinkedAccountInput): Promise<UpsertLinkedResult> {
    const candidate = randomUUID();
    const rows: Array<{ id: string }> = await manager.query(
      `INSERT INTO mail_accounts (id, user_id, provider, external_user_id, email, display_name, status)
       VALUES ($1, $2, $3, $4, $5, $6, 'syncing')
       ON CONFLICT (user_id, provider, external_user_id) DO UPDATE
         SET email = EXCLUDED.email,
             display_name = EXCLUDED.display_name,
             status = 'syncing',
             status_reason = NULL,
             updated_at = now()
       RETURNING id`,
      [candidate, input.userId, input.provider, input.externalUserId, input.email, input.displayName],
    );
    const id = String(rows[0]?.id);
    return { id, created: id === candidate };
  }

  /** The user's accounts, oldest first. */
  async listForUser(userId: string): Promise<MailAccountSummary[]> {
    const rows: SummaryRow[] = await this.dataSource.query(
      `SELECT ${SUMMARY_COLUMNS} FROM mail_accounts WHERE user_id = $1 ORDER BY created_at, id`,
      [userId],
    );
    return rows.map(toSummary);
  }

  /** One of the user's accounts; null for an unknown id and for another user's account alike. */
  async findForUser(userId: string, accountId: string): Promise<MailAccountSummary | null> {
    if (!UUID.test(accountId)) return null;
    const rows: SummaryRow[] = await this.dataSource.query(
      `SELECT ${SUMMARY_COLUMNS} FROM mail_accounts WHERE user_id = $1 AND id = $2`,
      [userId, accountId],
    );
    return rows[0] ? toSummary(rows[0]) : null;
  }

  /**
   * Sets (or, with null, removes) the signature of one of the user's accounts; the HTML must be sanitized already.
   * False when the account is not theirs (or does not exist).
   */
  async setSignature(userId: string, accountId: string, html: string | null): Promise<boolean> {
    if (!UUID.test(accountId)) return false;
    const rows: unknown[] = await this.dataSource.query(
      `UPDATE mail_accounts SET signature_html = $3 WHERE user_id = $1 AND id = $2 RETURNING id`,
      [userId, accountId, html],
    );
    // node-postgres answers an UPDATE ... RETURNING as [rows, count] through TypeORM's query()
    const returned = Array.isArray(rows[0]) ? (rows[0] as unknown[]) : rows;
    return returned.length > 0;
  }

  /**
   * Unlinking's first statement, inside its transaction: locks the user's account row (FOR UPDATE) until the
   * transaction ends, so nothing can attach to the account between the unlink's bookkeeping and its DELETE
   * (a watcher being recorded takes FOR KEY SHARE on the row, which waits and then finds the account gone).
   * False when the account is not theirs (or already gone).
   */
  async lockForUnlink(manager: EntityManager, userId: string, accountId: string): Promise<boolean> {
    if (!UUID.test(accountId)) return false;
    const rows: unknown[] = await manager.query(
      `SELECT 1 FROM mail_accounts WHERE user_id = $1 AND id = $2 FOR UPDATE`,
      [userId, accountId],
    );
    return rows.length > 0;
  }

  /**
   * Deletes one of the user's accounts with its folders, messages and bodies (ON DELETE CASCADE).
   * Runs inside `manager` when given, so the caller can commit an announcement with it. False when not theirs.
   */
  async deleteForUser(userId: string, accountId: string, manager?: EntityManager): Promise<boolean> {
    if (!UUID.test(accountId)) return false;
    // TypeORM answers a DELETE with [rows, rowCount]
    const [, deleted]: [unknown[], number] = await (manager ?? this.dataSource.manager).query(
      `DELETE FROM mail_accounts WHERE user_id = $1 AND id = $2`,
      [userId, accountId],
    );
    return deleted > 0;
  }
}
