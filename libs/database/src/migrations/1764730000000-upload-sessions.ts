import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Large attachments (issue 23, docs/attachments.md): an upload can be a session whose bytes arrive in chunks of at
 * most 4 MiB and are kept in `attachment_chunks`, one row per chunk, instead of in `command_uploads.content`.
 * `received` counts the bytes stored so far (always a prefix of the file: chunks come in order); the session is
 * complete when it equals `size`. A command that takes the upload takes its chunks with it: the rows change owner
 * (`upload_id` → the command's attachment), their bytes are not copied. Each chunk row belongs to exactly one
 * owner and goes with it (ON DELETE CASCADE), so an expired upload, a finished command and an unlinked account
 * leave none behind. The chunk bytes are stored uncompressed (STORAGE EXTERNAL): attachments are mostly
 * compressed already, and `substring()` then reads only the slice asked for.
 */
export class UploadSessions1764730000000 implements MigrationInterface {
  name = 'UploadSessions1764730000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE command_uploads ALTER COLUMN content DROP NOT NULL`);
    await q.query(`ALTER TABLE command_uploads ADD COLUMN received integer`);
    await q.query(`
      ALTER TABLE command_uploads ADD CONSTRAINT command_uploads_bytes_check
        CHECK ((content IS NOT NULL AND received IS NULL) OR
               (content IS NULL AND received IS NOT NULL AND received BETWEEN 0 AND size))`);
    await q.query(`ALTER TABLE mail_command_attachments ALTER COLUMN content DROP NOT NULL`);
    await q.query(`
      CREATE TABLE attachment_chunks (
        upload_id    uuid    REFERENCES command_uploads(id) ON DELETE CASCADE,
        command_id   uuid,
        position     integer,
        start_byte   integer NOT NULL CHECK (start_byte >= 0),
        data         bytea   NOT NULL,
        FOREIGN KEY (command_id, position)
          REFERENCES mail_command_attachments(command_id, position) ON DELETE CASCADE,
        CHECK ((upload_id IS NULL) <> (command_id IS NULL) AND (command_id IS NULL) = (position IS NULL))
      )`);
    await q.query(`ALTER TABLE attachment_chunks ALTER COLUMN data SET STORAGE EXTERNAL`);
    await q.query(
      `CREATE UNIQUE INDEX attachment_chunks_upload_idx ON attachment_chunks (upload_id, start_byte)
        WHERE upload_id IS NOT NULL`,
    );
    await q.query(
      `CREATE UNIQUE INDEX attachment_chunks_command_idx ON attachment_chunks (command_id, position, start_byte)
        WHERE command_id IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE attachment_chunks`);
    await q.query(`DELETE FROM mail_command_attachments WHERE content IS NULL`);
    await q.query(`ALTER TABLE mail_command_attachments ALTER COLUMN content SET NOT NULL`);
    await q.query(`DELETE FROM command_uploads WHERE content IS NULL`);
    await q.query(`ALTER TABLE command_uploads DROP CONSTRAINT command_uploads_bytes_check`);
    await q.query(`ALTER TABLE command_uploads DROP COLUMN received`);
    await q.query(`ALTER TABLE command_uploads ALTER COLUMN content SET NOT NULL`);
  }
}
