import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Live mail: each account's Graph subscription (its clientState only as a SHA-256 hash), the per-account
 * change sequence and its log (what `GET /accounts/:id/changes?since=` serves), and subscriptions waiting to be
 * deleted at Microsoft after their account was unlinked (with the account's sealed tokens, so the worker can
 * still authenticate once the account row is gone).
 */
export class LiveMail1764000000000 implements MigrationInterface {
  name = 'LiveMail1764000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE mail_accounts ADD COLUMN change_seq bigint NOT NULL DEFAULT 0`);
    await q.query(`
      CREATE TABLE graph_subscriptions (
        account_id         uuid        PRIMARY KEY REFERENCES mail_accounts(id) ON DELETE CASCADE,
        subscription_id    text        NOT NULL UNIQUE,
        client_state_hash  text        NOT NULL,
        resource           text        NOT NULL,
        expires_at         timestamptz NOT NULL,
        created_at         timestamptz NOT NULL DEFAULT now(),
        renewed_at         timestamptz
      )`);
    await q.query(`CREATE INDEX graph_subscriptions_expiry_idx ON graph_subscriptions (expires_at)`);
    await q.query(`
      CREATE TABLE mail_changes (
        account_id       uuid        NOT NULL REFERENCES mail_accounts(id) ON DELETE CASCADE,
        seq              bigint      NOT NULL,
        kind             text        NOT NULL CHECK (kind IN ('upserted', 'removed')),
        message_graph_id text        NOT NULL,
        folder_graph_id  text        NOT NULL,
        at               timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (account_id, seq)
      )`);
    await q.query(`CREATE INDEX mail_changes_at_idx ON mail_changes (at)`);
    await q.query(`
      CREATE TABLE subscription_removals (
        id                       uuid        PRIMARY KEY,
        account_id               uuid        NOT NULL,
        subscription_id          text        NOT NULL,
        token_key_id             text,
        access_token_enc         text,
        access_token_expires_at  timestamptz,
        refresh_token_enc        text,
        created_at               timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE subscription_removals`);
    await q.query(`DROP TABLE mail_changes`);
    await q.query(`DROP TABLE graph_subscriptions`);
    await q.query(`ALTER TABLE mail_accounts DROP COLUMN change_seq`);
  }
}
