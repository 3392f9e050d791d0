import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Mail commands (issue 6): each user action written back to Outlook, with its status, and the attachments of an
 * outgoing mail until it has been handed to Graph (then they are deleted). The id is the client's, so the same
 * command submitted twice is stored, and executed, once.
 */
export class MailCommands1764100000000 implements MigrationInterface {
  name = 'MailCommands1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE mail_commands (
        id            uuid        PRIMARY KEY,
        user_id       uuid        NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        account_id    uuid        NOT NULL REFERENCES mail_accounts(id) ON DELETE CASCADE,
        action        text        NOT NULL
                        CHECK (action IN ('markRead', 'flag', 'move', 'delete', 'send', 'reply', 'forward')),
        request       jsonb       NOT NULL,
        request_hash  text        NOT NULL,
        status        text        NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'done', 'failed')),
        reason_code   text,
        reason        text,
        created_at    timestamptz NOT NULL DEFAULT now(),
        updated_at    timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX mail_commands_account_idx ON mail_commands (account_id, created_at)`);
    await q.query(`
      CREATE TABLE mail_command_attachments (
        command_id    uuid    NOT NULL REFERENCES mail_commands(id) ON DELETE CASCADE,
        position      integer NOT NULL,
        name          text    NOT NULL,
        content_type  text    NOT NULL,
        size          integer NOT NULL,
        content       bytea   NOT NULL,
        PRIMARY KEY (command_id, position)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE mail_command_attachments`);
    await q.query(`DROP TABLE mail_commands`);
  }
}
