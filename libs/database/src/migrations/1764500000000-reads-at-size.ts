import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Reads of a large mailbox (issue 20, `npm run bench:read`), found with EXPLAIN (ANALYZE, BUFFERS) on a mailbox of
 * 1,000,000 messages (docs/performance.md, "Reads at size"):
 *
 * - `messages_account_received_idx`: the account's messages newest first, across folders. A list without a folder
 *   (search, sender filter) had only the per-folder index, so it read every match and sorted them: a common word
 *   or a prolific sender meant a top-N sort over 100,000+ rows. With this order an index walk stops at the page.
 *
 * No trigram index for the sender filter (a substring of the sender's name or address): every index on `messages`
 * is paid by every synced message, and a pg_trgm GIN on two columns cost the bulk sync about a quarter
 * (docs/performance.md); a statement-level trigger keeping per-folder counts made a folder's concurrent page
 * writers wait on one row. Both were tried and taken out.
 */
export class ReadsAtSize1764500000000 implements MigrationInterface {
  name = 'ReadsAtSize1764500000000';

  // A plain CREATE INDEX in the migration's transaction, not CONCURRENTLY: migrations run under one advisory lock
  // that every starting process waits for in a statement, and CREATE INDEX CONCURRENTLY waits for every running
  // statement's snapshot in the database, that wait included: four apps starting on a fresh database stalled for
  // over a minute (CI). Writes to messages wait for the build instead; stop the old release's workers before the
  // first new process migrates, as docs/development.md says for every upgrade.
  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX IF NOT EXISTS messages_account_received_idx ON messages (account_id, received_at DESC, remote_id DESC)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS messages_account_received_idx`);
  }
}
