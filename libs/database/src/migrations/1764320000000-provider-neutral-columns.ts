import type { MigrationInterface, QueryRunner } from 'typeorm';

/** [table, Graph-era column, provider-neutral column] */
type ColumnRename = readonly [table: string, before: string, after: string];
/** [table, Graph-era constraint, provider-neutral constraint] */
type ConstraintRename = readonly [table: string, before: string, after: string];

/**
 * The mirror's columns lose their Graph names (issue 17): an id is the provider's id for a folder or message
 * (`remote_id`), and a folder's sync position is an opaque `cursor` (a Graph deltaLink today, an IMAP
 * UIDVALIDITY/MODSEQ pair tomorrow) with the page in progress in `next_cursor`. Only renames (no data is copied,
 * every row stays), so it runs in a moment on any size of mirror; Postgres carries the primary keys, foreign keys
 * and indexes over to the new names, and the two foreign keys whose names spelled the old columns are renamed too.
 * `graph_subscriptions` keeps its name: it is the Outlook adapter's own table (Graph subscriptions, their
 * clientState hash and resource), not part of the provider-neutral mirror.
 */
const PROVIDER_NEUTRAL_COLUMNS: readonly ColumnRename[] = [
  ['mail_folders', 'graph_id', 'remote_id'],
  ['mail_folders', 'parent_graph_id', 'parent_remote_id'],
  ['mail_folders', 'delta_link', 'cursor'],
  ['mail_folders', 'next_link', 'next_cursor'],
  ['messages', 'graph_id', 'remote_id'],
  ['messages', 'folder_graph_id', 'folder_remote_id'],
  ['message_bodies', 'graph_id', 'remote_id'],
  ['mail_changes', 'message_graph_id', 'message_remote_id'],
  ['mail_changes', 'folder_graph_id', 'folder_remote_id'],
  ['folder_rebuild_seen', 'graph_id', 'remote_id'],
  ['folder_rebuild_seen', 'folder_graph_id', 'folder_remote_id'],
];

const PROVIDER_NEUTRAL_CONSTRAINTS: readonly ConstraintRename[] = [
  ['message_bodies', 'message_bodies_account_id_graph_id_fkey', 'message_bodies_account_id_remote_id_fkey'],
  [
    'folder_rebuild_seen',
    'folder_rebuild_seen_account_id_folder_graph_id_fkey',
    'folder_rebuild_seen_account_id_folder_remote_id_fkey',
  ],
];

const COMMENTS: ReadonlyArray<readonly [column: string, text: string]> = [
  ['mail_folders.remote_id', "the folder's id at its provider"],
  [
    'mail_folders.cursor',
    "where the folder's next incremental sync starts, opaque to the mirror (Outlook: the Graph deltaLink)",
  ],
  ['mail_folders.next_cursor', 'the next page of a sync still under way (Outlook: the Graph nextLink)'],
  ['messages.remote_id', "the message's id at its provider"],
];

export class ProviderNeutralColumns1764320000000 implements MigrationInterface {
  name = 'ProviderNeutralColumns1764320000000';

  async up(q: QueryRunner): Promise<void> {
    for (const [table, before, after] of PROVIDER_NEUTRAL_COLUMNS) {
      await q.query(`ALTER TABLE ${table} RENAME COLUMN ${before} TO ${after}`);
    }
    for (const [table, before, after] of PROVIDER_NEUTRAL_CONSTRAINTS) {
      await q.query(`ALTER TABLE ${table} RENAME CONSTRAINT ${before} TO ${after}`);
    }
    for (const [column, text] of COMMENTS) {
      await q.query(`COMMENT ON COLUMN ${column} IS '${text.replace(/'/g, "''")}'`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const [column] of COMMENTS) {
      await q.query(`COMMENT ON COLUMN ${column} IS NULL`);
    }
    for (const [table, before, after] of [...PROVIDER_NEUTRAL_CONSTRAINTS].reverse()) {
      await q.query(`ALTER TABLE ${table} RENAME CONSTRAINT ${after} TO ${before}`);
    }
    for (const [table, before, after] of [...PROVIDER_NEUTRAL_COLUMNS].reverse()) {
      await q.query(`ALTER TABLE ${table} RENAME COLUMN ${after} TO ${before}`);
    }
  }
}
