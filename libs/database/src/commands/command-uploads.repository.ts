import type { DataSource, EntityManager } from 'typeorm';

export interface NewCommandUpload {
  id: string;
  userId: string;
  name: string;
  contentType: string;
  content: Buffer;
  /** how long it waits for a command */
  ttlMs: number;
  /** a user with this many unexpired uploads gets no new one */
  maxPending: number;
}

/** What the API shows of an upload (never its bytes). */
export interface CommandUploadView {
  id: string;
  name: string;
  contentType: string;
  size: number;
  expiresAt: string;
}

interface Row {
  id: string;
  name: string;
  content_type: string;
  size: number;
  expires_at: Date;
}

const view = (r: Row): CommandUploadView => ({
  id: r.id,
  name: r.name,
  contentType: r.content_type,
  size: r.size,
  expiresAt: r.expires_at.toISOString(),
});

/**
 * `command_uploads`: attachments uploaded ahead of their command, owned by a user, until a command takes them
 * (moved into `mail_command_attachments` in the command's own transaction) or they expire. Someone else's upload
 * reads exactly like a missing one.
 */
export class CommandUploadsRepository {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Stores an upload unless the user already has `maxPending` waiting (then null). Expired uploads (everyone's)
   * are deleted on the way: nothing else needs to sweep them.
   */
  async create(u: NewCommandUpload): Promise<CommandUploadView | null> {
    await this.dataSource.query(
      `WITH d AS (DELETE FROM command_uploads WHERE expires_at <= now() RETURNING 1) SELECT count(*) FROM d`,
    );
    const rows: Row[] = await this.dataSource.query(
      `INSERT INTO command_uploads (id, user_id, name, content_type, size, content, expires_at)
       SELECT $1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7::double precision / 1000)
        WHERE (SELECT count(*) FROM command_uploads WHERE user_id = $2 AND expires_at > now()) < $8
       RETURNING id, name, content_type, size, expires_at`,
      [u.id, u.userId, u.name, u.contentType, u.content.length, u.content, u.ttlMs, u.maxPending],
    );
    return rows[0] ? view(rows[0]) : null;
  }

  /** The user's unexpired uploads among `ids` (their metadata, no bytes). */
  async findForUser(userId: string, ids: string[]): Promise<CommandUploadView[]> {
    if (ids.length === 0) return [];
    const rows: Row[] = await this.dataSource.query(
      `SELECT id, name, content_type, size, expires_at FROM command_uploads
        WHERE id = ANY($1::uuid[]) AND user_id = $2 AND expires_at > now()`,
      [ids, userId],
    );
    return rows.map(view);
  }

  /**
   * Inside the command's transaction: copies the upload's bytes into the command's attachment at `position` and
   * deletes the upload. False when the upload is gone (expired, or taken by a concurrent command): the caller
   * must roll back.
   */
  async moveIntoCommand(
    manager: EntityManager,
    m: { uploadId: string; userId: string; commandId: string; position: number },
  ): Promise<boolean> {
    const moved: unknown[] = await manager.query(
      `WITH taken AS (
         DELETE FROM command_uploads WHERE id = $1 AND user_id = $2 AND expires_at > now()
         RETURNING name, content_type, size, content)
       INSERT INTO mail_command_attachments (command_id, position, name, content_type, size, content)
       SELECT $3, $4, name, content_type, size, content FROM taken
       RETURNING position`,
      [m.uploadId, m.userId, m.commandId, m.position],
    );
    return moved.length === 1;
  }
}
