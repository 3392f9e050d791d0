import { currentTestRun } from '@email-core/testing';
import { createDataSource } from '../data-source';
import { Conversations1764700000000 } from '../migrations/1764700000000-conversations';
import type { MessageInput } from './mail-rows';
import { MessagesRepository } from './messages.repository';
import { insertTestAccount, testMail } from './testing/fixtures';

/** Threading in the page upsert on the run's real Postgres (docs/conversations.md). */
describe('conversations in the mirror (real Postgres)', () => {
  const run = currentTestRun();
  const dataSource = createDataSource({ url: run.databaseUrl, poolSize: 2 });
  const messages = new MessagesRepository(dataSource);

  const newAccount = (provider: 'imap' | 'outlook') =>
    insertTestAccount(dataSource, provider, [
      ['INBOX', null],
      ['Sent', null],
    ]);

  let minute = 0;
  /** a mail threaded by its headers, as the IMAP adapter hands it over */
  const mail = (id: string, subject: string, refs: string[] = [], overrides: Partial<MessageInput> = {}) =>
    testMail(id, new Date(Date.UTC(2026, 0, 1, 0, minute++)), {
      subject,
      body: { contentType: 'text', content: subject },
      internetMessageId: `<${id}@example.test>`,
      inReplyTo: refs.length > 0 ? refs[refs.length - 1] : null,
      references: refs.slice(0, -1).length > 0 ? refs : [],
      ...overrides,
    });

  const page = (account: string, folder: string, list: MessageInput[]) =>
    dataSource.transaction((m) => messages.applyPage(m, account, folder, { messages: list, removedIds: [] }));

  const threads = async (account: string) => {
    const rows: Array<{ remote_id: string; conversation_id: string }> = await dataSource.query(
      `SELECT remote_id, conversation_id FROM messages WHERE account_id = $1 ORDER BY remote_id`,
      [account],
    );
    return Object.fromEntries(rows.map((r) => [r.remote_id, r.conversation_id]));
  };

  beforeAll(() => dataSource.initialize());
  afterAll(() => dataSource.destroy());

  it('threads five IMAP mails into one conversation whatever order and page they arrive in', async () => {
    const { user, account } = await newAccount('imap');
    const id = (n: string) => `<${n}@example.test>`;
    // a1 root; a2 replies (In-Reply-To only); a3 replies to a2 (In-Reply-To only, no References: a client that
    // drops them); a4 has full References; a5 has no headers at all but "Re:" on the same subject
    const a1 = mail('a1', 'Quarterly plan');
    const a2 = mail('a2', 'Re: Quarterly plan', [id('a1')]);
    const a3 = mail('a3', 'RE: Quarterly plan', [id('a2')]);
    const a4 = mail('a4', 'Re: Quarterly plan', [id('a1'), id('a2'), id('a3')]);
    const a5 = mail('a5', 'AW: Quarterly plan');
    const other = mail('b1', 'Quarterly plan'); // same subject, no prefix, no references: its own thread
    // the deepest reply first, in the Sent folder; then a page with a parent and its child together; the root last
    await page(account, 'Sent', [a3]);
    await page(account, 'INBOX', [a4, a2]);
    await page(account, 'INBOX', [other, a1]);
    await page(account, 'INBOX', [a5]);
    const t = await threads(account);
    expect(new Set([t.a1, t.a2, t.a3, t.a4, t.a5])).toEqual(new Set([id('a1')]));
    expect(t.b1).toBe(id('b1'));

    // a change of flags re-writes a row: its thread stays
    await page(account, 'Sent', [{ ...a3, changeKey: '2', isRead: true }]);
    expect((await threads(account)).a3).toBe(id('a1'));
    await dataSource.query('DELETE FROM users WHERE id = $1', [user]);
  });

  it('a reply without References found only through its parent in the mirror joins its thread', async () => {
    const { user, account } = await newAccount('imap');
    const root = mail('r1', 'Offsite');
    const reply = mail('r2', 'Re: Offsite', [`<r1@example.test>`]);
    await page(account, 'INBOX', [root]);
    await page(account, 'INBOX', [reply]);
    // r3 answers r2 with In-Reply-To only: its guess (r2) is not a root, the lookup finds r2's thread
    await page(account, 'INBOX', [mail('r3', 'Re: Offsite', [`<r2@example.test>`])]);
    const rows: Array<{ n: number }> = await dataSource.query(
      `SELECT count(DISTINCT conversation_id)::int AS n FROM messages WHERE account_id = $1`,
      [account],
    );
    expect(rows[0]?.n).toBe(1);
    await dataSource.query('DELETE FROM users WHERE id = $1', [user]);
  });

  it("keeps a provider's conversation id as it is, and indexes none of its rows for header lookups", async () => {
    const { user, account } = await newAccount('outlook');
    await page(account, 'INBOX', [
      mail('g1', 'Re: Plan', [], {
        conversationId: 'AAQkConv=',
        inReplyTo: undefined,
        references: undefined,
      }),
      mail('g2', 'Plan', [], { conversationId: null, inReplyTo: undefined, references: undefined }),
    ]);
    const rows: Array<{ remote_id: string; conversation_id: string; thread_subject: string | null }> =
      await dataSource.query(
        `SELECT remote_id, conversation_id, thread_subject FROM messages WHERE account_id = $1 ORDER BY remote_id`,
        [account],
      );
    expect(rows).toEqual([
      { remote_id: 'g1', conversation_id: 'AAQkConv=', thread_subject: null },
      { remote_id: 'g2', conversation_id: 'g2', thread_subject: null },
    ]);
    await dataSource.query('DELETE FROM users WHERE id = $1', [user]);
  });

  it("the migration's backfill gives IMAP rows of before the change their subject key and merges their threads", async () => {
    const { user, account } = await newAccount('imap');
    const put = (id: string, subject: string, conversation: string | null, messageId: string | null) =>
      dataSource.query(
        `INSERT INTO messages (account_id, remote_id, folder_remote_id, change_key, subject, received_at,
                               conversation_id, internet_message_id)
         VALUES ($1, $2, 'INBOX', 'ck', $3, now(), $4, $5)`,
        [account, id, subject, conversation, messageId],
      );
    // as the old IMAP adapter stored them: thread = References' root, else In-Reply-To, else the Message-ID
    await put('o1', 'Launch', '<o1@x>', '<o1@x>');
    await put('o2', 'Re: Launch', '<o1@x>', '<o2@x>');
    await put('o3', '[team] AW: Re:  Launch  Day', '<o2@x>', 'o3@x'); // In-Reply-To only, an id without <>
    await put('o4', 'No id', null, null);
    const runner = dataSource.createQueryRunner();
    await runner.startTransaction();
    try {
      await new Conversations1764700000000().up(runner);
      const rows = (await runner.query(
        `SELECT remote_id, conversation_id, internet_message_id, thread_subject FROM messages
         WHERE account_id = $1 ORDER BY remote_id`,
        [account],
      )) as Array<Record<string, string | null>>;
      expect(rows).toEqual([
        {
          remote_id: 'o1',
          conversation_id: '<o1@x>',
          internet_message_id: '<o1@x>',
          thread_subject: 'launch',
        },
        {
          remote_id: 'o2',
          conversation_id: '<o1@x>',
          internet_message_id: '<o2@x>',
          thread_subject: 'launch',
        },
        {
          remote_id: 'o3',
          conversation_id: '<o1@x>',
          internet_message_id: '<o3@x>',
          thread_subject: 'launch day',
        },
        { remote_id: 'o4', conversation_id: 'o4', internet_message_id: null, thread_subject: 'no id' },
      ]);
    } finally {
      // the rows of this account only matter here; nothing of the re-run stays
      await runner.rollbackTransaction();
      await runner.release();
    }
    await dataSource.query('DELETE FROM users WHERE id = $1', [user]);
  });
});
