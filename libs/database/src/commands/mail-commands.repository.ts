import type { DataSource, EntityManager } from 'typeorm';
import type { MailCommandAction, MailCommandStatus } from '@email-core/contracts';
import { CommandAttachmentsRepository, type AttachmentToSend } from './command-attachments.repository';

export interface NewMailCommand {
  id: string;
  userId: string;
  accountId: string;
  action: MailCommandAction;
  /** the validated request without attachment content */
  request: Record<string, unknown>;
  /** SHA-256 of the whole request (attachments included): the same id with another request is a conflict */
  requestHash: string;
  /**
   * the inline attachments; `position` is the attachment's place in the mail (by default its index here), so
   * the attachments moved in from uploads (CommandUploadsRepository.moveIntoCommand) can take the other places
   */
  attachments: Array<{ name: string; contentType: string; content: Buffer; position?: number }>;
}

/** What the API shows of a command. */
export interface MailCommandView {
  id: string;
  accountId: string;
  action: MailCommandAction;
  status: MailCommandStatus;
  reasonCode: string | null;
  reason: string | null;
  /** a done saveDraft's draft at the provider (its id changes with every save on IMAP); null otherwise */
  draftId: string | null;
  createdAt: string;
  updatedAt: string;
}

/** The message a reply or forward draft answers, and how (`draft_origins`). */
export interface DraftOrigin {
  messageId: string;
  kind: 'reply' | 'replyAll' | 'forward';
}

/** What the done commands of one draft (by the client's draft key) say of it. */
export interface DraftKeyState {
  /** the draft's provider id after the last save done, null before the first */
  draftId: string | null;
  /** when the newest save done was submitted: an older save arriving late (a retry) must not overwrite it */
  newestSaveAt: Date | null;
  /** a sendDraft or discardDraft of the key is done: the draft is gone, a late save must not recreate it */
  closed: boolean;
}

/** What the worker needs to execute a command. */
export interface StoredMailCommand extends MailCommandView {
  userId: string;
  request: Record<string, unknown>;
}

export type CreateCommandResult =
  | { created: true; command: MailCommandView }
  /** the id exists: `sameRequest` false means it was used for another request (or by another user) */
  | { created: false; sameRequest: boolean; command: MailCommandView | null };

interface Row {
  id: string;
  user_id: string;
  account_id: string;
  action: MailCommandAction;
  request: Record<string, unknown>;
  request_hash: string;
  status: MailCommandStatus;
  reason_code: string | null;
  reason: string | null;
  result: { draftId?: string } | null;
  created_at: Date;
  updated_at: Date;
}

const view = (r: Row): MailCommandView => ({
  id: r.id,
  accountId: r.account_id,
  action: r.action,
  status: r.status,
  reasonCode: r.reason_code,
  reason: r.reason,
  draftId: typeof r.result?.draftId === 'string' ? r.result.draftId : null,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

/**
 * `mail_commands` and their attachments. Every statement ends in a SELECT or RETURNING read through `rowsOf`,
 * because TypeORM answers a bare UPDATE with `[rows, count]`.
 */
export class MailCommandsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Inside the caller's transaction (which also writes the outbox row); idempotent on the id. */
  async create(manager: EntityManager, c: NewMailCommand): Promise<CreateCommandResult> {
    const inserted: Row[] = await manager.query(
      `INSERT INTO mail_commands (id, user_id, account_id, action, request, request_hash)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (id) DO NOTHING
       RETURNING *`,
      [c.id, c.userId, c.accountId, c.action, JSON.stringify(c.request), c.requestHash],
    );
    const row = inserted[0];
    if (row) {
      for (const [index, a] of c.attachments.entries()) {
        await manager.query(
          `INSERT INTO mail_command_attachments (command_id, position, name, content_type, size, content)
           VALUES ($1, $2, $3, $4, $5, $6)`,
          [c.id, a.position ?? index, a.name, a.contentType, a.content.length, a.content],
        );
      }
      return { created: true, command: view(row) };
    }
    const existing: Row[] = await manager.query(`SELECT * FROM mail_commands WHERE id = $1`, [c.id]);
    const e = existing[0];
    const same = !!e && e.user_id === c.userId && e.request_hash === c.requestHash;
    return { created: false, sameRequest: same, command: e && e.user_id === c.userId ? view(e) : null };
  }

  /** A user's command; null for another user's or an unknown id. */
  async findForUser(userId: string, id: string): Promise<MailCommandView | null> {
    const rows: Row[] = await this.dataSource.query(
      `SELECT * FROM mail_commands WHERE id = $1 AND user_id = $2`,
      [id, userId],
    );
    return rows[0] ? view(rows[0]) : null;
  }

  async load(id: string): Promise<StoredMailCommand | null> {
    const rows: Row[] = await this.dataSource.query(`SELECT * FROM mail_commands WHERE id = $1`, [id]);
    const r = rows[0];
    return r ? { ...view(r), userId: r.user_id, request: r.request } : null;
  }

  /**
   * The attachments in their order, as the provider adapters send them: a small one with its bytes, one uploaded in
   * chunks as a source read a range at a time, never whole (docs/attachments.md).
   */
  loadAttachments(id: string): Promise<AttachmentToSend[]> {
    return new CommandAttachmentsRepository(this.dataSource).toSend(id);
  }

  /**
   * Moves the command to `to` if its status is one of `from`; returns the updated view, or null when it was in
   * another status (someone else moved it on: the caller must not act twice).
   */
  async transition(
    id: string,
    from: MailCommandStatus[],
    to: MailCommandStatus,
    reason?: { code: string; message: string },
    result?: { draftId: string },
  ): Promise<MailCommandView | null> {
    const rows: Row[] = await this.dataSource.query(
      `WITH u AS (
         UPDATE mail_commands
            SET status = $3, reason_code = $4, reason = $5, result = coalesce($6::jsonb, result),
                updated_at = now()
          WHERE id = $1 AND status = ANY($2::text[])
          RETURNING *)
       SELECT * FROM u`,
      [
        id,
        from,
        to,
        reason?.code ?? null,
        reason?.message.slice(0, 500) ?? null,
        result ? JSON.stringify(result) : null,
      ],
    );
    return rows[0] ? view(rows[0]) : null;
  }

  /**
   * The draft a client's draft key stands for, from the key's done commands (mail_commands_draft_key_idx). The
   * worker runs a draft's commands one at a time under the draft's lock, so this is read and then acted on alone.
   */
  async draftKeyState(accountId: string, draftKey: string): Promise<DraftKeyState> {
    const rows: Array<{ action: string; result: { draftId?: string } | null; created_at: Date }> =
      await this.dataSource.query(
        `SELECT action, result, created_at FROM mail_commands
          WHERE account_id = $1 AND action IN ('saveDraft', 'discardDraft', 'sendDraft')
            AND request->>'draftKey' = $2 AND status = 'done'
          ORDER BY updated_at DESC`,
        [accountId, draftKey],
      );
    const saves = rows.filter((r) => r.action === 'saveDraft');
    const last = saves.find((r) => typeof r.result?.draftId === 'string');
    const newest = saves.reduce<Date | null>((a, r) => (a && a > r.created_at ? a : r.created_at), null);
    return {
      draftId: last?.result?.draftId ?? null,
      newestSaveAt: newest,
      closed: rows.some((r) => r.action !== 'saveDraft'),
    };
  }

  /** The message the draft `draftId` answers (kept by `keepDraftOrigin`), or null for a new mail's draft. */
  async draftOrigin(accountId: string, draftId: string): Promise<DraftOrigin | null> {
    const rows: Array<{ origin_message_id: string; kind: DraftOrigin['kind'] }> = await this.dataSource.query(
      `SELECT origin_message_id, kind FROM draft_origins WHERE account_id = $1 AND draft_id = $2`,
      [accountId, draftId],
    );
    return rows[0] ? { messageId: rows[0].origin_message_id, kind: rows[0].kind } : null;
  }

  /**
   * After a save: the draft now at `draftId` answers `origin` (null: nothing); the row of the version it replaced
   * (`replacedId`, an IMAP draft's previous id) goes, so a reopened draft always finds its origin under its id now.
   */
  async keepDraftOrigin(
    accountId: string,
    draftId: string,
    origin: DraftOrigin | null,
    replacedId?: string,
  ): Promise<void> {
    await this.dataSource.query(
      `WITH replaced AS (
         DELETE FROM draft_origins WHERE account_id = $1 AND draft_id = $2 AND $2 <> $3
       )
       INSERT INTO draft_origins (account_id, draft_id, origin_message_id, kind)
       SELECT $1, $3, $4, $5 WHERE $4::text IS NOT NULL
       ON CONFLICT (account_id, draft_id) DO UPDATE SET
         origin_message_id = EXCLUDED.origin_message_id, kind = EXCLUDED.kind, updated_at = now()`,
      [accountId, replacedId ?? draftId, draftId, origin?.messageId ?? null, origin?.kind ?? null],
    );
  }

  /** The draft was sent or discarded: its origin is forgotten. */
  async forgetDraftOrigin(accountId: string, draftId: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM draft_origins WHERE account_id = $1 AND draft_id = $2`, [
      accountId,
      draftId,
    ]);
  }

  /** Attachments are kept only until Graph has them. */
  async dropAttachments(id: string): Promise<void> {
    await this.dataSource.query(
      `WITH d AS (DELETE FROM mail_command_attachments WHERE command_id = $1 RETURNING 1) SELECT count(*) FROM d`,
      [id],
    );
  }

  /** Commands stored for an account (tests and the Ops page). */
  async countForAccount(accountId: string): Promise<number> {
    const rows: Array<{ n: number }> = await this.dataSource.query(
      `SELECT count(*)::int AS n FROM mail_commands WHERE account_id = $1`,
      [accountId],
    );
    return rows[0]?.n ?? 0;
  }
}
