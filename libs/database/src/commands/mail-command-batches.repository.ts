import type { DataSource, EntityManager } from 'typeorm';
import {
  combinedBatchStatus,
  type BatchAction,
  type BatchCounts,
  type MailCommandAction,
  type MailCommandStatus,
} from '@email-core/contracts';
import { MailReadRepository } from '../mail-read/mail-read.repository';
import type { MailReadScope, MessageListFilter, ReadResult } from '../mail-read/mail-read.types';
import { buildMessagePageQuery } from '../mail-read/message-page-sql';

export interface NewCommandBatch {
  id: string;
  userId: string;
  accountId: string;
  action: BatchAction;
  /** SHA-256 of the batch request (its selection, not the ids it resolved to) */
  requestHash: string;
  messageCount: number;
  /** the batch's commands, each a bulk request of at most 500 ids */
  commands: Array<{ id: string; request: Record<string, unknown>; requestHash: string }>;
}

/** A batch as the API shows it: its commands counted by status, and the combined status. */
export interface CommandBatchView {
  id: string;
  accountId: string;
  action: BatchAction;
  status: MailCommandStatus;
  messages: number;
  commands: number;
  counts: BatchCounts;
  /** the first failed command's code and reason */
  reasonCode: string | null;
  reason: string | null;
  createdAt: string;
  /** the latest change of any of its commands */
  updatedAt: string;
}

export type CreateBatchResult =
  | { created: true }
  /** the id exists: `sameRequest` false means another request (or another user) used it */
  | { created: false; sameRequest: boolean };

interface StatusRow {
  id: string;
  user_id: string;
  account_id: string;
  action: BatchAction;
  message_count: number;
  command_count: number;
  created_at: Date;
  updated_at: Date;
  queued: number;
  sent: number;
  done: number;
  failed: number;
  reason_code: string | null;
  reason: string | null;
}

const STATUS_SQL = `
  SELECT b.id, b.user_id, b.account_id, b.action, b.message_count, b.command_count, b.created_at,
         max(c.updated_at) AS updated_at,
         count(*) FILTER (WHERE c.status = 'queued')::int AS queued,
         count(*) FILTER (WHERE c.status = 'sent')::int AS sent,
         count(*) FILTER (WHERE c.status = 'done')::int AS done,
         count(*) FILTER (WHERE c.status = 'failed')::int AS failed,
         (array_agg(c.reason_code ORDER BY c.updated_at, c.id) FILTER (WHERE c.status = 'failed'))[1] AS reason_code,
         (array_agg(c.reason ORDER BY c.updated_at, c.id) FILTER (WHERE c.status = 'failed'))[1] AS reason
    FROM mail_command_batches b
    JOIN mail_commands c ON c.batch_id = b.id`;

const view = (r: StatusRow): CommandBatchView & { userId: string } => {
  const counts = { queued: r.queued, sent: r.sent, done: r.done, failed: r.failed };
  return {
    id: r.id,
    userId: r.user_id,
    accountId: r.account_id,
    action: r.action,
    status: combinedBatchStatus(counts),
    messages: r.message_count,
    commands: r.command_count,
    counts,
    reasonCode: r.reason_code,
    reason: r.reason,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
};

/**
 * `mail_command_batches` and the commands that share a batch id (issue 23). The producer resolves a selection and
 * stores a batch; the worker and the API read its combined status, counted over its commands by the partial index
 * on `mail_commands (batch_id, status)`.
 */
export class MailCommandBatchesRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Who submitted batch `id` and with which request hash; null when the id is new. */
  async fingerprint(id: string): Promise<{ userId: string; requestHash: string } | null> {
    const rows: Array<{ user_id: string; request_hash: string }> = await this.dataSource.query(
      `SELECT user_id, request_hash FROM mail_command_batches WHERE id = $1`,
      [id],
    );
    const r = rows[0];
    return r ? { userId: r.user_id, requestHash: r.request_hash } : null;
  }

  /**
   * The ids of the messages a list's filter selects (the same SQL as the list itself, newest first), without
   * `excludeIds`; at most `max + 1`, so the caller can tell "more than max". Checks the account and the folder
   * first, like the list: another user's account reads as a missing one. Run on this repository's data source (the
   * primary: what the user just saw, written or not yet replicated, is what gets selected).
   */
  async resolveSelection(
    scope: MailReadScope,
    filter: MessageListFilter,
    excludeIds: string[],
    max: number,
  ): Promise<ReadResult<string[], 'ACCOUNT_NOT_FOUND' | 'FOLDER_NOT_FOUND'>> {
    const checked = await new MailReadRepository(this.dataSource).checkListScope(scope, filter.folderId);
    if (!checked.ok) return checked;
    const excluded = new Set(excludeIds);
    // the list's own query (its filters and ownership join), asked for enough rows to skip the excluded ones
    const { sql, params } = buildMessagePageQuery(scope, { filter, limit: max + excluded.size });
    const rows: Array<{ remote_id: string }> = await this.dataSource.query(
      `SELECT s.remote_id FROM (${sql}) s`,
      params,
    );
    const ids: string[] = [];
    for (const r of rows) {
      if (excluded.has(r.remote_id)) continue;
      ids.push(r.remote_id);
      if (ids.length > max) break;
    }
    return { ok: true, value: ids };
  }

  /**
   * Inside the caller's transaction (which also writes the commands' outbox rows): the batch and all its commands,
   * or, when the id exists, nothing. The commands are inserted in one statement per 100.
   */
  async create(manager: EntityManager, b: NewCommandBatch): Promise<CreateBatchResult> {
    const inserted: Array<{ id: string }> = await manager.query(
      `INSERT INTO mail_command_batches (id, user_id, account_id, action, request_hash, message_count, command_count)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (id) DO NOTHING
       RETURNING id`,
      [b.id, b.userId, b.accountId, b.action, b.requestHash, b.messageCount, b.commands.length],
    );
    if (inserted.length === 0) {
      const seen = await manager.query<Array<{ user_id: string; request_hash: string }>>(
        `SELECT user_id, request_hash FROM mail_command_batches WHERE id = $1`,
        [b.id],
      );
      const e = seen[0];
      return {
        created: false,
        sameRequest: !!e && e.user_id === b.userId && e.request_hash === b.requestHash,
      };
    }
    for (let start = 0; start < b.commands.length; start += 100) {
      const chunk = b.commands.slice(start, start + 100);
      const params: unknown[] = [b.userId, b.accountId, b.action satisfies MailCommandAction, b.id];
      const values = chunk.map((c) => {
        params.push(c.id, JSON.stringify(c.request), c.requestHash);
        const n = params.length;
        return `($${n - 2}, $1, $2, $3, $${n - 1}, $${n}, $4)`;
      });
      await manager.query(
        `INSERT INTO mail_commands (id, user_id, account_id, action, request, request_hash, batch_id)
         VALUES ${values.join(', ')}`,
        params,
      );
    }
    return { created: true };
  }

  /** A user's batch with its combined status; null for another user's or an unknown id. */
  async findForUser(userId: string, id: string): Promise<CommandBatchView | null> {
    const rows: StatusRow[] = await this.dataSource.query(
      `${STATUS_SQL} WHERE b.id = $1 AND b.user_id = $2 GROUP BY b.id`,
      [id, userId],
    );
    if (!rows[0]) return null;
    const { userId: _owner, ...rest } = view(rows[0]);
    return rest;
  }

  /** The batch command `commandId` belongs to, with its combined status and owner; null for a lone command. */
  async findByCommand(commandId: string): Promise<(CommandBatchView & { userId: string }) | null> {
    const rows: StatusRow[] = await this.dataSource.query(
      `${STATUS_SQL} WHERE b.id = (SELECT batch_id FROM mail_commands WHERE id = $1) GROUP BY b.id`,
      [commandId],
    );
    return rows[0] ? view(rows[0]) : null;
  }
}
