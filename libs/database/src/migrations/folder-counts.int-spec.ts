import { randomUUID } from 'node:crypto';
import { currentTestRun } from '@email-core/testing';
import { createDataSource } from '../data-source';
import { MailReadRepository } from '../mail-read/mail-read.repository';
import type { MessageInput } from '../mail/mail-rows';
import { MessagesRepository } from '../mail/messages.repository';

/** mail_folder_counts against a count of the messages themselves, after every kind of write */
describe('migration 1764510000000: folder counts kept by triggers on messages', () => {
  const run = currentTestRun();
  const ds = createDataSource({ url: run.databaseUrl, poolSize: 4 });
  const user = randomUUID();
  const account = randomUUID();

  const kept = async () =>
    (
      await ds.query<Array<{ f: string; total: number; unread: number }>>(
        `SELECT folder_remote_id AS f, total_count AS total, unread_count AS unread
         FROM mail_folder_counts WHERE account_id = $1 AND (total_count <> 0 OR unread_count <> 0) ORDER BY 1`,
        [account],
      )
    ).map((r) => ({ ...r }));
  const counted = async () =>
    (
      await ds.query<Array<{ f: string; total: number; unread: number }>>(
        `SELECT folder_remote_id AS f, count(*)::int AS total, (count(*) FILTER (WHERE NOT is_read))::int AS unread
         FROM messages WHERE account_id = $1 GROUP BY 1 ORDER BY 1`,
        [account],
      )
    ).map((r) => ({ ...r }));
  const expectExact = async () => expect(await kept()).toEqual(await counted());

  /** the consumer's statement shape: a multi-row upsert */
  const upsert = (rows: Array<[id: string, folder: string, isRead: boolean]>) =>
    ds.query(
      `INSERT INTO messages (account_id, remote_id, folder_remote_id, change_key, received_at, is_read)
       SELECT $1, t.id, t.folder, 'ck', now(), t.is_read
       FROM unnest($2::text[], $3::text[], $4::boolean[]) AS t(id, folder, is_read)
       ON CONFLICT (account_id, remote_id) DO UPDATE
         SET folder_remote_id = EXCLUDED.folder_remote_id, is_read = EXCLUDED.is_read`,
      [account, rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2])],
    );

  beforeAll(async () => {
    await ds.initialize();
    await ds.query(`INSERT INTO users (id, email, password_hash) VALUES ($1, $2, 'x')`, [
      user,
      `${user}@example.test`,
    ]);
    await ds.query(
      `INSERT INTO mail_accounts (id, user_id, external_user_id, email) VALUES ($1, $2, 'ext', $3)`,
      [account, user, `${account}@example.test`],
    );
    await ds.query(
      `INSERT INTO mail_folders (account_id, remote_id, display_name) VALUES ($1, 'inbox', 'Inbox'), ($1, 'archive', 'Archive')`,
      [account],
    );
  });
  afterAll(() => ds.destroy());

  it('stays exact through inserts, upserts that move and flip, deletes and the repository write path', async () => {
    await upsert(Array.from({ length: 30 }, (_, i) => [`m${i}`, i % 3 ? 'inbox' : 'archive', i % 2 === 0]));
    await expectExact();
    expect(await kept()).toEqual([
      { f: 'archive', total: 10, unread: 5 },
      { f: 'inbox', total: 20, unread: 10 },
    ]);
    // one statement: new rows, moved rows, read flips, unchanged rows
    await upsert([
      ['m0', 'inbox', true],
      ['m1', 'archive', false],
      ['m2', 'inbox', false],
      ['m4', 'inbox', true],
      ['new-1', 'archive', false],
    ]);
    await expectExact();
    await ds.query(`UPDATE messages SET is_read = NOT is_read WHERE account_id = $1 AND remote_id < 'm2'`, [
      account,
    ]);
    await expectExact();
    await ds.query(`DELETE FROM messages WHERE account_id = $1 AND remote_id LIKE 'm1%'`, [account]);
    await expectExact();
    // the consumer's own page statement: new messages, a move into this folder, a flip, removals
    const message = (id: string, isRead: boolean, changeKey: string): MessageInput => ({
      id,
      changeKey,
      subject: id,
      from: null,
      toRecipients: [],
      ccRecipients: [],
      bodyPreview: '',
      body: { contentType: 'text', content: id },
      receivedAt: '2026-01-01T00:00:00Z',
      sentAt: null,
      isRead,
      flagStatus: 'notFlagged',
      importance: 'normal',
      hasAttachments: false,
      conversationId: null,
      internetMessageId: null,
    });
    await ds.transaction((m) =>
      new MessagesRepository(ds).applyPage(m, account, 'inbox', {
        messages: [message('page-1', false, 'a'), message('m3', false, 'moved'), message('m6', true, 'read')],
        removedIds: ['m2', 'm4', 'm5'],
      }),
    );
    await expectExact();
  });

  it('is what the folder list shows, and it goes with the account', async () => {
    const folders = await new MailReadRepository(ds).listFolders({ userId: user, accountId: account });
    const shown = folders.ok
      ? folders.value.map((f) => ({ f: f.id, total: f.totalCount, unread: f.unreadCount }))
      : [];
    expect(shown.sort((a, b) => a.f.localeCompare(b.f))).toEqual(await counted());
    await ds.query(`DELETE FROM users WHERE id = $1`, [user]);
    const left = await ds.query<unknown[]>(`SELECT 1 FROM mail_folder_counts WHERE account_id = $1`, [
      account,
    ]);
    expect(left).toEqual([]);
  });
});
