import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { MessageInput } from '../mail-rows';

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

/**
 * A mail as an adapter hands it to the page upsert, with plain defaults (unread, not flagged, no recipients, a text
 * body, no threading headers): `overrides` set what a spec is about. `receivedAt` is required, so each spec keeps
 * its own order of arrival.
 */
export function testMail(id: string, receivedAt: Date, overrides: Partial<MessageInput> = {}): MessageInput {
  return {
    id,
    changeKey: '1',
    subject: id,
    from: { name: 'Ann', address: 'ann@example.test' },
    toRecipients: [],
    ccRecipients: [],
    bodyPreview: '',
    body: { contentType: 'text', content: 'hello' },
    receivedAt: receivedAt.toISOString(),
    sentAt: null,
    isRead: false,
    flagStatus: 'notFlagged',
    importance: 'normal',
    hasAttachments: false,
    conversationId: null,
    internetMessageId: null,
    inReplyTo: null,
    references: [],
    ...overrides,
  };
}
