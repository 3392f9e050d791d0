import type { DataSource, EntityManager } from 'typeorm';
import { toMessageColumns, type MessageInput } from './mail-rows';
import { testMail } from './testing/fixtures';
import { LOCK_CHANGING_SQL, MessagesRepository, REMOVE_SQL, UPSERT_PAGE_SQL } from './messages.repository';

const message = (id: string, overrides: Partial<MessageInput> = {}): MessageInput =>
  testMail(id, new Date('2026-01-01T00:00:00Z'), {
    changeKey: `ck-${id}`,
    subject: `subject ${id}`,
    from: { name: 'Ann', address: 'ann@contoso.example' },
    toRecipients: [{ name: 'Bob', address: 'bob@contoso.example' }],
    bodyPreview: 'preview',
    body: { contentType: 'html', content: '<p>hi</p>' },
    receivedAt: '2026-01-01T00:00:00Z',
    ...overrides,
  });

/** A manager that records the statements it is given and answers like Postgres would. */
function recordingManager() {
  const calls: Array<{ sql: string; params: unknown[] }> = [];
  const manager = {
    query: (sql: string, params: unknown[]) => {
      calls.push({ sql, params });
      return Promise.resolve(
        sql === REMOVE_SQL
          ? [{ removed: 1, removed_ids: ['gone'], removed_unread: 1 }]
          : sql === LOCK_CHANGING_SQL
            ? [{ remote_id: 'm2' }]
            : [
                {
                  upserted: 2,
                  bodies: 2,
                  upserted_ids: ['m1', 'm2'],
                  created_ids: ['m2'],
                  moved_from: ['folder-b'],
                  counts: [
                    { folderId: 'folder-a', total: 2, unread: 2 },
                    { folderId: 'folder-b', total: -1, unread: 0 },
                  ],
                  counts_unknown: false,
                },
              ],
      );
    },
  } as unknown as EntityManager;
  return { calls, manager };
}

describe('MessagesRepository.applyPage', () => {
  const repo = new MessagesRepository({} as DataSource);

  it('writes a page in one upsert statement, after its removals, scoped to the account and folder', async () => {
    const { calls, manager } = recordingManager();
    const result = await repo.applyPage(manager, 'acct', 'folder-a', {
      messages: [message('m1'), message('m2')],
      removedIds: ['gone', 'gone'],
    });
    // what changed, by id, for the change log; and the folder a moved message left, whose counts changed too
    expect(result).toEqual({
      upserted: 2,
      removed: 1,
      upsertedIds: ['m1', 'm2'],
      // m2 was inserted (new to the mirror), m1 replaced
      createdIds: ['m2'],
      removedIds: ['gone'],
      movedFrom: ['folder-b'],
      relocated: [],
      // the removal's and the upsert's count changes, summed per folder
      counts: [
        { folderId: 'folder-a', total: 1, unread: 1 },
        { folderId: 'folder-b', total: -1, unread: 0 },
      ],
      countsUnknown: false,
    });
    expect(calls.map((c) => c.sql)).toEqual([REMOVE_SQL, LOCK_CHANGING_SQL, UPSERT_PAGE_SQL]);
    expect(calls[0].params).toEqual(['acct', ['gone'], 'folder-a']);
    // the rows the upsert will change are locked first, with what they are compared on
    expect(calls[1].params).toEqual(['acct', ['m1', 'm2'], ['ck-m1', 'ck-m2'], 'folder-a']);
    expect(calls[2].params.slice(0, 3)).toEqual(['acct', 'folder-a', ['m1', 'm2']]);
    // $1, $2 and one array per column of $3..$24
    expect(calls[2].params).toHaveLength(24);
    for (const p of calls[2].params.slice(2)) expect(p).toHaveLength(2);
  });

  it('keeps the last copy of a message listed twice, and never removes one the page also carries', async () => {
    const { calls, manager } = recordingManager();
    await repo.applyPage(manager, 'acct', 'f', {
      messages: [message('m1', { subject: 'old' }), message('m2'), message('m1', { subject: 'new' })],
      removedIds: ['m2'],
    });
    expect(calls.map((c) => c.sql)).toEqual([LOCK_CHANGING_SQL, UPSERT_PAGE_SQL]);
    expect(calls[1].params[2]).toEqual(['m2', 'm1']);
    expect(calls[1].params[4]).toEqual(['subject m2', 'new']);
  });

  it('sends nothing for an empty page', async () => {
    const { calls, manager } = recordingManager();
    expect(await repo.applyPage(manager, 'acct', 'f', { messages: [], removedIds: [] })).toEqual({
      upserted: 0,
      removed: 0,
      upsertedIds: [],
      createdIds: [],
      removedIds: [],
      movedFrom: [],
      relocated: [],
      counts: [],
      countsUnknown: false,
    });
    expect(calls).toEqual([]);
  });
});

describe('the page statements', () => {
  it('only rewrites rows whose change key or folder differ, and removes only from the reporting folder', () => {
    expect(UPSERT_PAGE_SQL).toContain('ON CONFLICT (account_id, remote_id) DO UPDATE');
    expect(UPSERT_PAGE_SQL).toMatch(
      /WHERE messages\.change_key IS DISTINCT FROM EXCLUDED\.change_key\s+OR messages\.folder_remote_id IS DISTINCT FROM EXCLUDED\.folder_remote_id/,
    );
    expect(UPSERT_PAGE_SQL).toContain('INSERT INTO message_bodies');
    expect(UPSERT_PAGE_SQL).toContain("setweight(to_tsvector('simple', c.subject), 'A')");
    expect(REMOVE_SQL).toContain(
      'account_id = (SELECT $1::uuid) AND remote_id = ANY($2::text[]) AND folder_remote_id = $3',
    );
    // the rows written and removed are reported by id, read from the statement itself (no second query)
    expect(UPSERT_PAGE_SQL).toContain('array_agg(remote_id)');
    expect(UPSERT_PAGE_SQL).toContain('AS moved_from');
    expect(REMOVE_SQL).toContain('RETURNING remote_id');
  });
});

describe('toMessageColumns', () => {
  it('encodes recipients as JSON, fills absent values, and strips NUL (Postgres text cannot hold it)', () => {
    const c = toMessageColumns([
      message('m1', {
        subject: 'a\u0000b',
        from: null,
        ccRecipients: [{ name: 'O\u0000"Q"', address: 'q@x' }],
        body: { contentType: 'text', content: 'x\u0000y' },
        conversationId: 'c\u00001',
      }),
    ]);
    expect(c.subject).toEqual(['ab']);
    expect(c.fromName).toEqual(['']);
    expect(c.fromAddress).toEqual(['']);
    expect(JSON.parse(c.ccRecipients[0]) as unknown).toEqual([{ name: 'O"Q"', address: 'q@x' }]);
    expect(c.toRecipients).toEqual(['[{"name":"Bob","address":"bob@contoso.example"}]']);
    expect(c.bodyType).toEqual(['text']);
    expect(c.bodyContent).toEqual(['xy']);
    expect(c.conversationId).toEqual(['c1']);
    expect(c.sentAt).toEqual([null]);
  });
});
