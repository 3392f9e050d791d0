import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Drafts (issue 23): three draft actions on `mail_commands` (saveDraft, discardDraft, sendDraft), a command's
 * `result` (a saveDraft's draft id at the provider, which the dashboard reads and the next save of the same draft
 * replaces), an index to find a draft's commands by the client's draft key, and `messages.is_draft` (Graph's
 * isDraft; IMAP's \Draft flag). Adding a column with a constant default rewrites no table.
 */
export class Drafts1764710000000 implements MigrationInterface {
  name = 'Drafts1764710000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE mail_commands DROP CONSTRAINT mail_commands_action_check`);
    await q.query(`
      ALTER TABLE mail_commands ADD CONSTRAINT mail_commands_action_check
        CHECK (action IN ('markRead', 'flag', 'move', 'delete', 'send', 'reply', 'forward',
                          'saveDraft', 'discardDraft', 'sendDraft'))`);
    await q.query(`ALTER TABLE mail_commands ADD COLUMN result jsonb`);
    await q.query(`
      CREATE INDEX mail_commands_draft_key_idx ON mail_commands (account_id, (request->>'draftKey'))
        WHERE action IN ('saveDraft', 'discardDraft', 'sendDraft')`);
    await q.query(`ALTER TABLE messages ADD COLUMN is_draft boolean NOT NULL DEFAULT false`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE messages DROP COLUMN is_draft`);
    await q.query(`DROP INDEX mail_commands_draft_key_idx`);
    await q.query(`ALTER TABLE mail_commands DROP COLUMN result`);
    await q.query(`DELETE FROM mail_commands WHERE action IN ('saveDraft', 'discardDraft', 'sendDraft')`);
    await q.query(`ALTER TABLE mail_commands DROP CONSTRAINT mail_commands_action_check`);
    await q.query(`
      ALTER TABLE mail_commands ADD CONSTRAINT mail_commands_action_check
        CHECK (action IN ('markRead', 'flag', 'move', 'delete', 'send', 'reply', 'forward'))`);
  }
}
