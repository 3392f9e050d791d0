import { currentTestRun } from '@email-core/testing';
import { createDataSource } from '../data-source';
import { messageColumnParams, toMessageColumns, type MessageInput } from './mail-rows';
import { LOCK_CHANGING_SQL, MessagesRepository, UPSERT_PAGE_SQL } from './messages.repository';
import { insertTestAccount, testMail } from './testing/fixtures';

/**
 * The index of each node of a plan (EXPLAIN's JSON) that looks `messages` up by `column` (`<column> =` in its index
 * condition or filter).
 */
function probesBy(plan: unknown, column: string): string[] {
  const found: string[] = [];
  const pattern = new RegExp(`\\b${column} = `);
  const walk = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      const n = node as Record<string, unknown>;
      const text = (v: unknown) => (typeof v === 'string' ? v : '');
      if (
        n['Relation Name'] === 'messages' &&
        pattern.test(`${text(n['Index Cond'])} ${text(n['Filter'])}`)
      ) {
        found.push(typeof n['Index Name'] === 'string' ? n['Index Name'] : String(n['Node Type']));
      }
      Object.values(n).forEach(walk);
    }
  };
  walk(plan);
  return found;
}

/**
 * The probes of `messages` by id (`remote_id =`, not `folder_remote_id =`): what the first case is about. The upsert's
 * other lookups (by Message-ID or subject, for header-threaded rows only) are the second case's.
 */
const idProbesOf = (plan: unknown): string[] => probesBy(plan, 'remote_id');

/**
 * A first sync of a new account into a table whose statistics predate it (autovacuum's ANALYZE comes later): the
 * page statements must still find each id through the primary key. With the account's value in the statement, the
 * planner took the account for about one row and probed through an index that walks all of its rows
 * (docs/performance.md, session 27: a 300,000-message sync at half speed until the next ANALYZE).
 */
describe('page statements probe messages by primary key, whatever the statistics say (real Postgres)', () => {
  const run = currentTestRun();
  const dataSource = createDataSource({ url: run.databaseUrl, poolSize: 2 });
  const messages = new MessagesRepository(dataSource);
  const users: string[] = [];

  const newAccount = async () => {
    const { user, account } = await insertTestAccount(dataSource, 'outlook', [['inbox', 'inbox']]);
    users.push(user);
    return account;
  };
  const mails = (prefix: string, n: number, from = 0): MessageInput[] =>
    Array.from({ length: n }, (_, i) =>
      testMail(
        `${prefix}-${String(from + i).padStart(6, '0')}-${'x'.repeat(120)}`,
        new Date(Date.UTC(2026, 0, 1, 0, 0, from + i)),
        {
          conversationId: `conv-${prefix}-${Math.floor((from + i) / 4)}`,
        },
      ),
    );
  /** n messages of `make` into the account's Inbox, in pages of 500 as a first sync writes them */
  const fill = async (
    account: string,
    prefix: string,
    n: number,
    make: (prefix: string, n: number, from: number) => MessageInput[] = mails,
  ) => {
    for (let from = 0; from < n; from += 500) {
      await dataSource.transaction((m) =>
        messages.applyPage(m, account, 'inbox', {
          messages: make(prefix, Math.min(500, n - from), from),
          removedIds: [],
        }),
      );
    }
  };
  /**
   * Header-threaded (IMAP) mail: a Message-ID, four to a subject. `replies` answer the message 1,000 before them: by
   * naming it (In-Reply-To, References), or by its subject alone with "Re:"
   */
  const imapMails = (
    prefix: string,
    n: number,
    from = 0,
    replies?: 'references' | 'subject',
  ): MessageInput[] =>
    Array.from({ length: n }, (_, i) => {
      const k = from + i;
      const parent = `<${prefix}-${String(k - 1000).padStart(6, '0')}@example.test>`;
      return testMail(`${prefix}-uid-${k}`, new Date(Date.UTC(2026, 0, 1, 0, 0, k)), {
        subject:
          replies === 'subject'
            ? `Re: topic ${prefix} ${Math.floor((k - 1000) / 4)} ${'y'.repeat(60)}`
            : `topic ${prefix} ${Math.floor(k / 4)} ${'y'.repeat(60)}`,
        internetMessageId: `<${prefix}-${String(k).padStart(6, '0')}@example.test>`,
        inReplyTo: replies === 'references' ? parent : null,
        references: replies === 'references' ? [parent] : [],
      });
    });
  const explain = async (sql: string, params: unknown[]): Promise<unknown> => {
    const rows: Array<{ 'QUERY PLAN': unknown }> = await dataSource.query(
      `EXPLAIN (FORMAT JSON) ${sql}`,
      params,
    );
    return rows[0]?.['QUERY PLAN'];
  };

  beforeAll(() => dataSource.initialize());
  afterAll(async () => {
    if (users.length > 0) await dataSource.query('DELETE FROM users WHERE id = ANY($1)', [users]);
    await dataSource.destroy();
  });

  it('the lock and the upsert of a page of a new account use messages_pkey while the statistics do not know it', async () => {
    const known = await newAccount();
    await fill(known, 'known', 4000);
    await dataSource.query('ANALYZE messages');
    const fresh = await newAccount();
    await fill(fresh, 'fresh', 3000);

    // the hazard is real here: the planner takes the new account, 3,000 rows, for a handful
    const estimate = (await explain('SELECT * FROM messages WHERE account_id = $1', [fresh])) as Array<{
      Plan: { 'Plan Rows': number };
    }>;
    expect(estimate[0]?.Plan['Plan Rows']).toBeLessThan(100);

    // the next page: half of it already mirrored (changed), half new
    const page = [
      ...mails('fresh', 250, 2750).map((m) => ({ ...m, changeKey: '2' })),
      ...mails('fresh', 250, 3000),
    ];
    const columns = toMessageColumns(page);
    // every probe of messages by id goes through the primary key (the lock's one, the upsert's lookup)
    const lock = idProbesOf(
      await explain(LOCK_CHANGING_SQL, [fresh, columns.graphId, columns.changeKey, 'inbox']),
    );
    expect(lock).toEqual(['messages_pkey']);
    const upsert = idProbesOf(
      await explain(UPSERT_PAGE_SQL, [fresh, 'inbox', ...messageColumnParams(columns)]),
    );
    expect(upsert).toEqual(['messages_pkey']);
    // and the page itself is applied as before
    const applied = await dataSource.transaction((m) =>
      messages.applyPage(m, fresh, 'inbox', { messages: page, removedIds: [] }),
    );
    expect(applied.upserted).toBe(500);
    expect(applied.createdIds).toHaveLength(250);
  });

  it("a header-threaded page's lookups by Message-ID and by subject use their partial indexes while the statistics do not know the account", async () => {
    const known = await newAccount();
    await fill(known, 'iknown', 4000, imapMails);
    await dataSource.query('ANALYZE messages');
    const fresh = await newAccount();
    await fill(fresh, 'ifresh', 3000, imapMails);

    // new rows only: replies naming an earlier message (thread by Message-ID), replies by subject alone
    const page = [
      ...imapMails('ifresh', 250, 3000, 'references'),
      ...imapMails('ifresh', 250, 3250, 'subject'),
    ];
    const columns = toMessageColumns(page);
    const plan = await explain(UPSERT_PAGE_SQL, [fresh, 'inbox', ...messageColumnParams(columns)]);
    // the thread by a reference, and the copy elsewhere by Message-ID (KNOWN_ELSEWHERE_SQL)
    const byMessageId = probesBy(plan, 'internet_message_id');
    expect(byMessageId.length).toBeGreaterThanOrEqual(2);
    expect(new Set(byMessageId)).toEqual(new Set(['messages_thread_message_id_idx']));
    // the newest thread of the same subject
    expect(probesBy(plan, 'thread_subject')).toEqual(['messages_thread_subject_idx']);

    const applied = await dataSource.transaction((m) =>
      messages.applyPage(m, fresh, 'inbox', { messages: page, removedIds: [] }),
    );
    expect(applied.createdIds).toHaveLength(500);
    // and they are threaded as before: a reply joins its parent's thread, a "Re:" the newest of its subject
    const threads: Array<{ remote_id: string; conversation_id: string }> = await dataSource.query(
      `SELECT remote_id, conversation_id FROM messages WHERE account_id = $1 AND remote_id = ANY($2)`,
      [fresh, ['ifresh-uid-3000', 'ifresh-uid-3250', 'ifresh-uid-2000', 'ifresh-uid-2251']],
    );
    const thread = new Map(threads.map((t) => [t.remote_id, t.conversation_id]));
    expect(thread.get('ifresh-uid-3000')).toBe(thread.get('ifresh-uid-2000'));
    expect(thread.get('ifresh-uid-3250')).toBe(thread.get('ifresh-uid-2251'));
  });
});
