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

export interface NewUploadSession {
  id: string;
  userId: string;
  name: string;
  contentType: string;
  /** the file's size, announced up front; the session is complete once that many bytes arrived */
  size: number;
  ttlMs: number;
  maxPending: number;
  /** a user whose unexpired uploads (announced sizes) would exceed this many bytes gets no new session */
  maxPendingBytes: number;
}

/** What the API shows of an upload (never its bytes). */
export interface CommandUploadView {
  id: string;
  name: string;
  contentType: string;
  size: number;
  /** bytes stored so far (a prefix of the file); equals `size` for a one-request upload and a complete session */
  received: number;
  expiresAt: string;
}

/** What appending a chunk to a session came to. */
export type AppendChunkResult =
  | { kind: 'stored'; upload: CommandUploadView }
  /** the same range was stored before (a retry whose answer was lost): nothing stored twice */
  | { kind: 'repeated'; upload: CommandUploadView }
  /** the chunk does not start where the session stands (or runs past its size): nothing stored */
  | { kind: 'out_of_order'; upload: CommandUploadView }
  /** no such session of the user's (unknown, expired, someone else's, a one-request upload, taken) */
  | { kind: 'not_found' };

const COLUMNS = `id, name, content_type, size, coalesce(received, size) AS received, expires_at`;

interface Row {
  id: string;
  name: string;
  content_type: string;
  size: number;
  received: number;
  expires_at: Date;
}

const view = (r: Row): CommandUploadView => ({
  id: r.id,
  name: r.name,
  contentType: r.content_type,
  size: r.size,
  received: r.received,
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
    await this.deleteExpired();
    const rows: Row[] = await this.dataSource.query(
      `INSERT INTO command_uploads (id, user_id, name, content_type, size, content, expires_at)
       SELECT $1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7::double precision / 1000)
        WHERE (SELECT count(*) FROM command_uploads WHERE user_id = $2 AND expires_at > now()) < $8
       RETURNING ${COLUMNS}`,
      [u.id, u.userId, u.name, u.contentType, u.content.length, u.content, u.ttlMs, u.maxPending],
    );
    return rows[0] ? view(rows[0]) : null;
  }

  /**
   * Opens an upload session (nothing received yet), unless the user already has `maxPending` uploads waiting
   * (`too_many`) or their announced sizes with this one would pass `maxPendingBytes` (`too_many_bytes`). The user's
   * row in `users` is locked meanwhile, so two sessions opened at once cannot both slip under the quota.
   */
  async createSession(u: NewUploadSession): Promise<CommandUploadView | 'too_many' | 'too_many_bytes'> {
    await this.deleteExpired();
    return this.dataSource.transaction(async (m) => {
      await m.query(`SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, [u.userId]);
      const pending: Array<{ n: number; bytes: string }> = await m.query(
        `SELECT count(*)::int AS n, coalesce(sum(size), 0)::text AS bytes FROM command_uploads
          WHERE user_id = $1 AND expires_at > now()`,
        [u.userId],
      );
      const { n = 0, bytes = '0' } = pending[0] ?? {};
      if (n >= u.maxPending) return 'too_many';
      if (Number(bytes) + u.size > u.maxPendingBytes) return 'too_many_bytes';
      const rows: Row[] = await m.query(
        `INSERT INTO command_uploads (id, user_id, name, content_type, size, content, received, expires_at)
         VALUES ($1, $2, $3, $4, $5, NULL, 0, now() + make_interval(secs => $6::double precision / 1000))
         RETURNING ${COLUMNS}`,
        [u.id, u.userId, u.name, u.contentType, u.size, u.ttlMs],
      );
      return view(rows[0]);
    });
  }

  /**
   * Stores the bytes at `start` of the user's session, in one statement that also advances `received` (the row
   * lock makes concurrent PUTs of a session take turns): only a chunk that starts exactly at `received` and ends
   * within `size` is stored. A chunk already stored at the same place with the same length is a retry: `repeated`.
   */
  async appendChunk(c: {
    id: string;
    userId: string;
    start: number;
    data: Buffer;
  }): Promise<AppendChunkResult> {
    const stored: Row[] = await this.dataSource.query(
      `WITH s AS (
         UPDATE command_uploads SET received = received + $4
          WHERE id = $1 AND user_id = $2 AND expires_at > now() AND received = $3 AND received + $4 <= size
          RETURNING ${COLUMNS}),
       c AS (INSERT INTO attachment_chunks (upload_id, start_byte, data) SELECT id, $3, $5 FROM s RETURNING 1)
       SELECT s.* FROM s, c`,
      [c.id, c.userId, c.start, c.data.length, c.data],
    );
    if (stored[0]) return { kind: 'stored', upload: view(stored[0]) };
    const session = await this.findSession(c.userId, c.id);
    if (!session) return { kind: 'not_found' };
    const same: unknown[] = await this.dataSource.query(
      `SELECT 1 FROM attachment_chunks WHERE upload_id = $1 AND start_byte = $2 AND length(data) = $3`,
      [c.id, c.start, c.data.length],
    );
    return { kind: same.length > 0 ? 'repeated' : 'out_of_order', upload: session };
  }

  /** The user's unexpired upload session (null for a one-request upload: it has no chunks to resume). */
  async findSession(userId: string, id: string): Promise<CommandUploadView | null> {
    const rows: Row[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM command_uploads
        WHERE id = $1 AND user_id = $2 AND expires_at > now() AND received IS NOT NULL`,
      [id, userId],
    );
    return rows[0] ? view(rows[0]) : null;
  }

  /** Deletes the user's upload (and its chunks); false when there was none. */
  async remove(userId: string, id: string): Promise<boolean> {
    // a bare DELETE … RETURNING comes back from TypeORM as [rows, count]: counted through a CTE instead
    const rows: Array<{ n: number }> = await this.dataSource.query(
      `WITH d AS (DELETE FROM command_uploads WHERE id = $1 AND user_id = $2 AND expires_at > now() RETURNING 1)
       SELECT count(*)::int AS n FROM d`,
      [id, userId],
    );
    return (rows[0]?.n ?? 0) > 0;
  }

  /** The user's unexpired uploads among `ids` (their metadata, no bytes). */
  async findForUser(userId: string, ids: string[]): Promise<CommandUploadView[]> {
    if (ids.length === 0) return [];
    const rows: Row[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM command_uploads
        WHERE id = ANY($1::uuid[]) AND user_id = $2 AND expires_at > now()`,
      [ids, userId],
    );
    return rows.map(view);
  }

  /** Expired uploads (everyone's) are deleted on the way, with their chunks: nothing else needs to sweep them. */
  private async deleteExpired(): Promise<void> {
    await this.dataSource.query(
      `WITH d AS (DELETE FROM command_uploads WHERE expires_at <= now() RETURNING 1) SELECT count(*) FROM d`,
    );
  }

  /**
   * Inside the command's transaction: the upload becomes the command's attachment at `position` and is deleted.
   * A one-request upload's bytes are copied (at most 3 MB); a session's chunks change owner, uncopied. False when
   * the upload is gone (expired, or taken by a concurrent command, which holds its row lock until it commits) or
   * an incomplete session: the caller must roll back.
   */
  async moveIntoCommand(
    manager: EntityManager,
    m: { uploadId: string; userId: string; commandId: string; position: number },
  ): Promise<boolean> {
    const moved: Array<{ session: boolean }> = await manager.query(
      `WITH u AS (
         SELECT name, content_type, size, content, received IS NOT NULL AS session FROM command_uploads
          WHERE id = $1 AND user_id = $2 AND expires_at > now() AND coalesce(received, size) = size
          FOR UPDATE)
       INSERT INTO mail_command_attachments (command_id, position, name, content_type, size, content)
       SELECT $3, $4, name, content_type, size, content FROM u
       RETURNING content IS NULL AS session`,
      [m.uploadId, m.userId, m.commandId, m.position],
    );
    if (moved.length !== 1) return false;
    if (moved[0].session) {
      await manager.query(
        `WITH c AS (UPDATE attachment_chunks SET upload_id = NULL, command_id = $2, position = $3
                     WHERE upload_id = $1 RETURNING 1)
         SELECT count(*) FROM c`,
        [m.uploadId, m.commandId, m.position],
      );
    }
    await manager.query(
      `WITH d AS (DELETE FROM command_uploads WHERE id = $1 RETURNING 1) SELECT count(*) FROM d`,
      [m.uploadId],
    );
    return true;
  }
}
