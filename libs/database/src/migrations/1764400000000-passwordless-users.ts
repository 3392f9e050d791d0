import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Sign-in by emailed code (issue 18): a first sign-in with a code creates the user without a password, already
 * verified. Password sign-in treats a user without a hash like an unknown address (INVALID_CREDENTIALS after a
 * dummy verification). `down` gives such users an unusable marker hash: they keep signing in by code only.
 */
export class PasswordlessUsers1764400000000 implements MigrationInterface {
  name = 'PasswordlessUsers1764400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE users ALTER COLUMN password_hash DROP NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE users SET password_hash = '!' WHERE password_hash IS NULL`);
    await q.query(`ALTER TABLE users ALTER COLUMN password_hash SET NOT NULL`);
  }
}
