import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Command batches (issue 23, multi-select): one bulk action on a selection of any size, stored as commands of at
 * most 500 ids each that share the batch's id, so the batch's combined status is a count over its commands
 * (the partial index below). The batch row keeps what a retry with the same id is compared with (the request's
 * hash) and what the status reports (how many messages and commands). Adding a nullable column without a default
 * rewrites nothing.
 */
export class CommandBatches1764740000000 implements MigrationInterface {
  name = 'CommandBatches1764740000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE mail_command_batches (
        id             uuid        PRIMARY KEY,
        user_id        uuid        NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        account_id     uuid        NOT NULL REFERENCES mail_accounts(id) ON DELETE CASCADE,
        action         text        NOT NULL CHECK (action IN ('markRead', 'flag', 'move', 'delete')),
        request_hash   text        NOT NULL,
        message_count  integer     NOT NULL CHECK (message_count > 0),
        command_count  integer     NOT NULL CHECK (command_count > 0),
        created_at     timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(
      `CREATE INDEX mail_command_batches_account_idx ON mail_command_batches (account_id, created_at)`,
    );
    await q.query(
      `ALTER TABLE mail_commands ADD COLUMN batch_id uuid REFERENCES mail_command_batches(id) ON DELETE CASCADE`,
    );
    await q.query(
      `CREATE INDEX mail_commands_batch_idx ON mail_commands (batch_id, status) WHERE batch_id IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS mail_commands_batch_idx`);
    await q.query(`ALTER TABLE mail_commands DROP COLUMN IF EXISTS batch_id`);
    await q.query(`DROP TABLE IF EXISTS mail_command_batches`);
  }
}
