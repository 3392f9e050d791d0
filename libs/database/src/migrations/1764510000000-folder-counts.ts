import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Exact folder counts without counting (issue 20, `npm run bench:read`): the folder list counted each folder's
 * messages on every read (a sequential scan per folder: 8 s for 7 folders of a 1,000,000-message mailbox).
 * `mail_folder_counts` holds each folder's total and unread messages, kept by statement-level triggers on
 * `messages` in the writing statement's own transaction, so it is exact for any writer (the consumer's page
 * upserts, moves, removals, cascades from an account or folder delete): one grouped row per folder a statement
 * touched, whatever the number of rows. TRUNCATE empties it. `mail_folders.total_count`/`unread_count` stay the
 * consumer's own recount (what the change feed announces); reads take these.
 *
 * A row per (account, folder) the mirror has held messages in, with no foreign key to `mail_folders`: a message
 * may land before its folder row. Counts are maintained by delta, so two writers of one folder wait on its row
 * (the consumer holds the mailbox lock anyway); rows are locked in key order to keep that deadlock-free.
 */
export class FolderCounts1764510000000 implements MigrationInterface {
  name = 'FolderCounts1764510000000';

  async up(q: QueryRunner): Promise<void> {
    // writes to messages wait for this transaction: the triggers and the backfill below see the same rows
    await q.query(`LOCK TABLE messages IN SHARE ROW EXCLUSIVE MODE`);
    await q.query(`
      CREATE TABLE mail_folder_counts (
        account_id        uuid    NOT NULL REFERENCES mail_accounts(id) ON DELETE CASCADE,
        folder_remote_id  text    NOT NULL,
        total_count       integer NOT NULL DEFAULT 0,
        unread_count      integer NOT NULL DEFAULT 0,
        PRIMARY KEY (account_id, folder_remote_id)
      )`);
    // the deltas of one statement, grouped per folder, applied in key order; only folders whose counts moved
    await q.query(`
      CREATE FUNCTION mail_folder_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        IF TG_OP = 'INSERT' THEN
          INSERT INTO mail_folder_counts AS c (account_id, folder_remote_id, total_count, unread_count)
          SELECT n.account_id, n.folder_remote_id, count(*), count(*) FILTER (WHERE NOT n.is_read)
          FROM new_rows n GROUP BY n.account_id, n.folder_remote_id ORDER BY 1, 2
          ON CONFLICT (account_id, folder_remote_id) DO UPDATE
            SET total_count = c.total_count + EXCLUDED.total_count,
                unread_count = c.unread_count + EXCLUDED.unread_count;
        ELSIF TG_OP = 'UPDATE' THEN
          INSERT INTO mail_folder_counts AS c (account_id, folder_remote_id, total_count, unread_count)
          SELECT d.account_id, d.folder_remote_id, sum(d.total), sum(d.unread)
          FROM (
            SELECT n.account_id, n.folder_remote_id, 1 AS total, CASE WHEN n.is_read THEN 0 ELSE 1 END AS unread
            FROM new_rows n
            UNION ALL
            SELECT o.account_id, o.folder_remote_id, -1, CASE WHEN o.is_read THEN 0 ELSE -1 END
            FROM old_rows o
          ) d
          GROUP BY d.account_id, d.folder_remote_id
          HAVING sum(d.total) <> 0 OR sum(d.unread) <> 0
          ORDER BY 1, 2
          ON CONFLICT (account_id, folder_remote_id) DO UPDATE
            SET total_count = c.total_count + EXCLUDED.total_count,
                unread_count = c.unread_count + EXCLUDED.unread_count;
        ELSIF TG_OP = 'DELETE' THEN
          UPDATE mail_folder_counts c
          SET total_count = c.total_count - d.total, unread_count = c.unread_count - d.unread
          FROM (
            SELECT o.account_id, o.folder_remote_id, count(*) AS total, count(*) FILTER (WHERE NOT o.is_read) AS unread
            FROM old_rows o GROUP BY o.account_id, o.folder_remote_id ORDER BY 1, 2
          ) d
          WHERE c.account_id = d.account_id AND c.folder_remote_id = d.folder_remote_id;
        ELSE -- TRUNCATE
          DELETE FROM mail_folder_counts;
        END IF;
        RETURN NULL;
      END
      $fn$`);
    await q.query(`
      CREATE TRIGGER messages_counts_insert AFTER INSERT ON messages
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION mail_folder_counts_apply()`);
    await q.query(`
      CREATE TRIGGER messages_counts_update AFTER UPDATE ON messages
        REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION mail_folder_counts_apply()`);
    await q.query(`
      CREATE TRIGGER messages_counts_delete AFTER DELETE ON messages
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION mail_folder_counts_apply()`);
    await q.query(`
      CREATE TRIGGER messages_counts_truncate AFTER TRUNCATE ON messages
        FOR EACH STATEMENT EXECUTE FUNCTION mail_folder_counts_apply()`);
    await q.query(`
      INSERT INTO mail_folder_counts (account_id, folder_remote_id, total_count, unread_count)
      SELECT account_id, folder_remote_id, count(*), count(*) FILTER (WHERE NOT is_read)
      FROM messages GROUP BY account_id, folder_remote_id`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TRIGGER messages_counts_truncate ON messages`);
    await q.query(`DROP TRIGGER messages_counts_delete ON messages`);
    await q.query(`DROP TRIGGER messages_counts_update ON messages`);
    await q.query(`DROP TRIGGER messages_counts_insert ON messages`);
    await q.query(`DROP FUNCTION mail_folder_counts_apply()`);
    await q.query(`DROP TABLE mail_folder_counts`);
  }
}
