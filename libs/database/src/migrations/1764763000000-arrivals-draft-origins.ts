import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 23 follow-ups:
 * - `message_removals`: the messages the mirror removed lately (one row per removed row, kept a day), so the page
 *   upsert can tell an arrival from the second half of a move. A move at IMAP gives the message a new UID (a new
 *   row), and a move seen from its source folder first deletes the row before its destination lists it again
 *   (any provider): either way the row inserted is a message the account already had, not new mail, and
 *   `mail.changed` calls it `upserted`, not `created` (docs/realtime.md). `outgoing`: the removed row was a draft
 *   or in Sent (the user's own copy: a mail the user sent to themselves still arrives in the Inbox).
 * - `draft_origins`: which message a reply or forward draft answers, and how (`reply`, `replyAll`, `forward`),
 *   written by the worker with each save of the draft (an IMAP draft gets a new id with each save: the row follows
 *   it), so a draft reopened from Drafts opens in compose as the reply it is (docs/mail-actions.md#drafts).
 */
export class ArrivalsDraftOrigins1764763000000 implements MigrationInterface {
  name = 'ArrivalsDraftOrigins1764763000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE message_removals (
        account_id           uuid        NOT NULL REFERENCES mail_accounts(id) ON DELETE CASCADE,
        remote_id            text        NOT NULL,
        internet_message_id  text,
        outgoing             boolean     NOT NULL DEFAULT false,
        removed_at           timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (account_id, remote_id)
      )`);
    await q.query(`
      CREATE INDEX message_removals_message_id_idx ON message_removals (account_id, internet_message_id)
        WHERE internet_message_id IS NOT NULL`);
    await q.query(
      `CREATE INDEX message_removals_removed_at_idx ON message_removals (account_id, removed_at)`,
    );
    await q.query(`
      CREATE TABLE draft_origins (
        account_id         uuid        NOT NULL REFERENCES mail_accounts(id) ON DELETE CASCADE,
        draft_id           text        NOT NULL,
        origin_message_id  text        NOT NULL,
        kind               text        NOT NULL CHECK (kind IN ('reply', 'replyAll', 'forward')),
        updated_at         timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (account_id, draft_id)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE draft_origins`);
    await q.query(`DROP TABLE message_removals`);
  }
}
