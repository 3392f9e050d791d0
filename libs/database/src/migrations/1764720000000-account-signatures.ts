import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Issue 23, rich compose: `mail_accounts.signature_html`, the account's signature as sanitized HTML (the API
 * sanitizes it; at most 10,000 characters, MAX_SIGNATURE_HTML_CHARS, held here by a CHECK). Null: no signature.
 * Nullable without a default: adding it rewrites nothing.
 */
export class AccountSignatures1764720000000 implements MigrationInterface {
  name = 'AccountSignatures1764720000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE mail_accounts ADD COLUMN IF NOT EXISTS signature_html text`);
    await q.query(`ALTER TABLE mail_accounts DROP CONSTRAINT IF EXISTS mail_accounts_signature_html_length`);
    await q.query(
      `ALTER TABLE mail_accounts ADD CONSTRAINT mail_accounts_signature_html_length
         CHECK (signature_html IS NULL OR char_length(signature_html) <= 10000)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE mail_accounts DROP CONSTRAINT IF EXISTS mail_accounts_signature_html_length`);
    await q.query(`ALTER TABLE mail_accounts DROP COLUMN IF EXISTS signature_html`);
  }
}
