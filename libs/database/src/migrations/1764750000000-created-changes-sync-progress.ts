import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 23:
 * - `mail_changes.kind` takes `created`: a change that inserted the message into the mirror (a new mail), told
 *   apart from `upserted` (an existing row changed or moved), so dashboards stop guessing which mail is new.
 *   Existing rows keep their kinds.
 * - `mail_accounts.sync_progress`: the latest `sync.progress` snapshot of the running sync (folders and messages
 *   done of the totals, and when), written by the worker with each report, so `GET /accounts` carries it and a
 *   dashboard reloaded in the middle of a sync shows its progress at once. Null before the first report of a sync.
 *   Nullable without a default: adding it rewrites nothing.
 */
export class CreatedChangesSyncProgress1764750000000 implements MigrationInterface {
  name = 'CreatedChangesSyncProgress1764750000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE mail_changes DROP CONSTRAINT IF EXISTS mail_changes_kind_check`);
    await q.query(
      `ALTER TABLE mail_changes ADD CONSTRAINT mail_changes_kind_check CHECK (kind IN ('created', 'upserted', 'removed'))`,
    );
    await q.query(`ALTER TABLE mail_accounts ADD COLUMN IF NOT EXISTS sync_progress jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE mail_accounts DROP COLUMN IF EXISTS sync_progress`);
    await q.query(`UPDATE mail_changes SET kind = 'upserted' WHERE kind = 'created'`);
    await q.query(`ALTER TABLE mail_changes DROP CONSTRAINT IF EXISTS mail_changes_kind_check`);
    await q.query(
      `ALTER TABLE mail_changes ADD CONSTRAINT mail_changes_kind_check CHECK (kind IN ('upserted', 'removed'))`,
    );
  }
}
