import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A folder whose delta state Graph lost (410 SyncStateNotFound) is rebuilt without emptying it first: while
 * `rebuilding`, each from-scratch page records the ids it listed in `folder_rebuild_seen` (in the page's
 * transaction, so a crash resumes the rebuild), and the last page deletes the folder's messages it did not list.
 */
export class FolderRebuild1764200000000 implements MigrationInterface {
  name = 'FolderRebuild1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE mail_folders ADD COLUMN rebuilding boolean NOT NULL DEFAULT false`);
    await q.query(`
      CREATE TABLE folder_rebuild_seen (
        account_id       uuid NOT NULL,
        folder_graph_id  text NOT NULL,
        graph_id         text NOT NULL,
        PRIMARY KEY (account_id, folder_graph_id, graph_id),
        FOREIGN KEY (account_id, folder_graph_id) REFERENCES mail_folders(account_id, graph_id) ON DELETE CASCADE
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE folder_rebuild_seen`);
    await q.query(`ALTER TABLE mail_folders DROP COLUMN rebuilding`);
  }
}
