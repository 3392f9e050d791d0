import { randomUUID } from 'node:crypto';
import { currentTestRun } from '@email-core/testing';
import { createDataSource } from '../data-source';
import { MailReadRepository } from './mail-read.repository';
import { decodeMessageCursor } from './message-cursor';

/** The conversation list and reader on the run's real Postgres (docs/conversations.md). */
describe('conversation reads (real Postgres)', () => {
  const run = currentTestRun();
  const dataSource = createDataSource({ url: run.databaseUrl, poolSize: 2 });
  const reads = new MailReadRepository(dataSource);
  const user = randomUUID();
  const account = randomUUID();
  const scope = { userId: user, accountId: account };

  const put = (id: string, folder: string, conversation: string, minute: number, more: Partial<Row> = {}) =>
    dataSource.query(
      `INSERT INTO messages (account_id, remote_id, folder_remote_id, change_key, subject, from_name, from_address,
                             received_at, conversation_id, is_read, flag_status)
       VALUES ($1, $2, $3, 'ck', $4, $5, $6, $7, $8, $9, $10)`,
      [
        account,
        id,
        folder,
        more.subject ?? `subject ${id}`,
        more.fromName ?? 'Ann',
        more.fromAddress ?? 'ann@example.test',
        new Date(Date.UTC(2026, 0, 1, 0, minute)).toISOString(),
        conversation,
        more.isRead ?? true,
        more.flagStatus ?? 'notFlagged',
      ],
    );
  interface Row {
    subject: string;
    fromName: string;
    fromAddress: string;
    isRead: boolean;
    flagStatus: string;
  }

  beforeAll(async () => {
    await dataSource.initialize();
    await dataSource.query(`INSERT INTO users (id, email, password_hash) VALUES ($1, $2, 'x')`, [
      user,
      `${user}@example.test`,
    ]);
    await dataSource.query(
      `INSERT INTO mail_accounts (id, user_id, external_user_id, email) VALUES ($1, $2, 'ext', $3)`,
      [account, user, `${account}@example.test`],
    );
    for (const f of ['inbox', 'sent']) {
      await dataSource.query(
        `INSERT INTO mail_folders (account_id, remote_id, display_name) VALUES ($1, $2, $2)`,
        [account, f],
      );
    }
    // conversation A: three in the Inbox (two senders, one unread, one flagged) and a reply in Sent
    await put('a1', 'inbox', 'A', 1, { fromName: 'Ann' });
    await put('a2', 'sent', 'A', 2, { fromName: 'Me', fromAddress: 'me@example.test' });
    await put('a3', 'inbox', 'A', 3, { fromName: 'Bob', fromAddress: 'bob@example.test', isRead: false });
    await put('a4', 'inbox', 'A', 6, {
      fromName: 'ANN',
      fromAddress: 'Ann@example.test',
      flagStatus: 'flagged',
    });
    // B and C: one message each, between A's
    await put('b1', 'inbox', 'B', 4);
    await put('c1', 'inbox', 'C', 5, { isRead: false });
  });
  afterAll(async () => {
    await dataSource.query('DELETE FROM users WHERE id = $1', [user]);
    await dataSource.destroy();
  });

  it('lists one row per conversation in the folder, by its latest message there, keyset-paged', async () => {
    const first = await reads.findConversationPage(scope, { folderId: 'inbox', limit: 2 });
    if (!first.ok) throw new Error(first.error);
    expect(first.value.items).toEqual([
      {
        id: 'A',
        folderId: 'inbox',
        subject: 'subject a4',
        bodyPreview: '',
        receivedAt: '2026-01-01T00:06:00.000Z',
        latestMessageId: 'a4',
        messageCount: 3,
        unreadCount: 1,
        flagged: true,
        hasAttachments: false,
        // one entry per address whatever its case, first to write first
        participants: [
          { name: 'Ann', address: 'ann@example.test' },
          { name: 'Bob', address: 'bob@example.test' },
        ],
        messageIds: ['a4', 'a3', 'a1'],
      },
      expect.objectContaining({
        id: 'C',
        messageCount: 1,
        unreadCount: 1,
        flagged: false,
        messageIds: ['c1'],
      }),
    ]);
    expect(first.value.nextCursor).not.toBeNull();
    const second = await reads.findConversationPage(scope, {
      folderId: 'inbox',
      limit: 2,
      after: decodeMessageCursor(first.value.nextCursor ?? '') ?? undefined,
    });
    if (!second.ok) throw new Error(second.error);
    expect(second.value.items.map((c) => c.id)).toEqual(['B']);
    expect(second.value.nextCursor).toBeNull();
  });

  it('a folder of another account, or an account of another user, is a 404', async () => {
    expect(await reads.findConversationPage(scope, { folderId: 'nope', limit: 2 })).toEqual({
      ok: false,
      error: 'FOLDER_NOT_FOUND',
    });
    expect(
      await reads.findConversationPage({ ...scope, userId: randomUUID() }, { folderId: 'inbox', limit: 2 }),
    ).toEqual({ ok: false, error: 'ACCOUNT_NOT_FOUND' });
  });

  it('reads a whole conversation across folders oldest first; an unknown one is a 404', async () => {
    const a = await reads.findConversation(scope, 'A');
    if (!a.ok) throw new Error(a.error);
    expect(a.value.messageCount).toBe(4);
    expect(a.value.messages.map((m) => [m.id, m.folderId, m.conversationId])).toEqual([
      ['a1', 'inbox', 'A'],
      ['a2', 'sent', 'A'],
      ['a3', 'inbox', 'A'],
      ['a4', 'inbox', 'A'],
    ]);
    expect(await reads.findConversation(scope, 'Z')).toEqual({ ok: false, error: 'CONVERSATION_NOT_FOUND' });
    expect(await reads.findConversation({ ...scope, userId: randomUUID() }, 'A')).toEqual({
      ok: false,
      error: 'ACCOUNT_NOT_FOUND',
    });
  });
});
