import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Operator rights are a role stored on the user (issue 16), granted explicitly with `npm run ops:grant`, no longer
 * read from the access token's email claim. `email_verified_at` records when the user proved they own their
 * address (nobody yet: verification arrives with sign-in by code); only a verified address listed in
 * `OPS_ADMIN_EMAILS` makes its user an operator without a grant.
 */
export class UserRoles1764300000000 implements MigrationInterface {
  name = 'UserRoles1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE users
        ADD COLUMN role text NOT NULL DEFAULT 'user' CONSTRAINT users_role_check CHECK (role IN ('user', 'operator')),
        ADD COLUMN email_verified_at timestamptz`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users DROP COLUMN email_verified_at, DROP COLUMN role`);
  }
}
