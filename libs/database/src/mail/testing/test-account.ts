import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';

/**
 * For integration specs on the run's real Postgres: a user, one of its mail accounts and the account's folders
 * (`[remoteId, wellKnownName]`; the remote id is the display name too). Answers the new ids.
 */
export async function insertTestAccount(
  db: DataSource,
  provider: 'imap' | 'outlook',
  folders: ReadonlyArray<readonly [remoteId: string, wellKnown: string | null]>,
): Promise<{ user: string; account: string }> {
  const user = randomUUID();
  const account = randomUUID();
  await db.query(`INSERT INTO users (id, email, password_hash) VALUES ($1, $2, 'x')`, [
    user,
    `${user}@example.test`,
  ]);
  await db.query(
    `INSERT INTO mail_accounts (id, user_id, external_user_id, email, provider) VALUES ($1, $2, 'ext', $3, $4)`,
    [account, user, `${account}@example.test`, provider],
  );
  for (const [remoteId, wellKnown] of folders) {
    await db.query(
      `INSERT INTO mail_folders (account_id, remote_id, display_name, well_known_name) VALUES ($1, $2, $2, $3)`,
      [account, remoteId, wellKnown],
    );
  }
  return { user, account };
}
