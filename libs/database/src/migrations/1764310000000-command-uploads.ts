import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Attachments uploaded ahead of the command that sends them (`POST /uploads`, issue 16): the raw bytes, owned by
 * the user who uploaded them, until a command attaches them (its transaction moves them into
 * `mail_command_attachments`) or they expire (24 h) and are deleted.
 */
export class CommandUploads1764310000000 implements MigrationInterface {
  name = 'CommandUploads1764310000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE command_uploads (
        id            uuid        PRIMARY KEY,
        user_id       uuid        NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        name          text        NOT NULL,
        content_type  text        NOT NULL,
        size          integer     NOT NULL,
        content       bytea       NOT NULL,
        created_at    timestamptz NOT NULL DEFAULT now(),
        expires_at    timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX command_uploads_user_idx ON command_uploads (user_id, expires_at)`);
    await q.query(`CREATE INDEX command_uploads_expiry_idx ON command_uploads (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE command_uploads`);
  }
}
