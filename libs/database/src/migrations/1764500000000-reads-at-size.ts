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
 *
 * Built with CONCURRENTLY outside a transaction, so a live mirror keeps taking writes while they build; an index a
 * failed build left INVALID is dropped and built again.
 */
const INDEXES: ReadonlyArray<readonly [name: string, definition: string]> = [
  ['messages_account_received_idx', 'ON messages (account_id, received_at DESC, remote_id DESC)'],
];

export class ReadsAtSize1764500000000 implements MigrationInterface {
  name = 'ReadsAtSize1764500000000';
  transaction = false as const;

  async up(q: QueryRunner): Promise<void> {
    for (const [name, definition] of INDEXES) {
      const invalid = (await q.query(
        `SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
         WHERE c.relname = $1 AND c.relnamespace = current_schema()::regnamespace AND NOT i.indisvalid`,
        [name],
      )) as unknown[];
      if (invalid.length > 0) await q.query(`DROP INDEX CONCURRENTLY ${name}`);
      await q.query(`CREATE INDEX CONCURRENTLY IF NOT EXISTS ${name} ${definition}`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const [name] of [...INDEXES].reverse()) await q.query(`DROP INDEX CONCURRENTLY IF EXISTS ${name}`);
  }
}
