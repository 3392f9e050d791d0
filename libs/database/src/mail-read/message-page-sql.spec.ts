import { buildMessagePageQuery, escapeLike, senderFilterText } from './message-page-sql';

const scope = { userId: 'user-1', accountId: 'acct-1' };

/** the WHERE clause, one predicate a line, without the fixed ownership lines */
const predicates = (sql: string) =>
  /WHERE ([\s\S]*)\nORDER BY/
    .exec(sql)![1]
    .split('\n  AND ')
    .filter((p) => !/^(m\.account_id|a\.id|a\.user_id) = /.test(p));

describe('buildMessagePageQuery', () => {
  it('without filters: owner-checked, newest first, one row more than the page', () => {
    const { sql, params } = buildMessagePageQuery(scope, { filter: {}, limit: 50 });
    expect(sql).toContain('JOIN mail_accounts a ON a.id = m.account_id');
    expect(sql).toMatch(/WHERE m\.account_id = \$1\n {2}AND a\.id = \$1\n {2}AND a\.user_id = \$2\n/);
    expect(sql).toMatch(/ORDER BY m\.received_at DESC, m\.remote_id DESC\nLIMIT \$3$/);
    expect(predicates(sql)).toEqual([]);
    expect(params).toEqual(['acct-1', 'user-1', 51]);
  });

  it('turns every filter into a bound predicate, in a fixed order', () => {
    const { sql, params } = buildMessagePageQuery(scope, {
      filter: {
        folderId: 'inbox-id',
        unread: true,
        flagged: true,
        hasAttachments: true,
        from: 'alice',
        after: '2025-01-01T00:00:00Z',
        before: '2025-02-01T00:00:00Z',
        q: 'quarterly "board meeting" -draft',
      },
      limit: 20,
      after: { receivedAt: '2025-01-15T08:00:00.000001Z', id: 'm-9' },
    });
    expect(predicates(sql)).toEqual([
      'm.folder_remote_id = $3',
      'NOT m.is_read',
      "m.flag_status = 'flagged'",
      'm.has_attachments',
      "(m.search @@ regexp_replace(plainto_tsquery('simple', $4)::text, '''( |$)', ''':*B\\1', 'g')::tsquery" +
        ' AND (m.from_address ILIKE $5 OR m.from_name ILIKE $5))',
      'm.received_at >= $6::timestamptz',
      'm.received_at < $7::timestamptz',
      "m.search @@ websearch_to_tsquery('simple', $8)",
      '(m.received_at, m.remote_id) < ($9::timestamptz, $10)',
    ]);
    expect(params).toEqual([
      'acct-1',
      'user-1',
      'inbox-id',
      'alice',
      '%alice%',
      '2025-01-01T00:00:00Z',
      '2025-02-01T00:00:00Z',
      'quarterly "board meeting" -draft',
      '2025-01-15T08:00:00.000001Z',
      'm-9',
      21,
    ]);
  });

  it('false booleans select the other side', () => {
    const { sql, params } = buildMessagePageQuery(scope, {
      filter: { unread: false, flagged: false, hasAttachments: false },
      limit: 10,
    });
    expect(predicates(sql)).toEqual(['m.is_read', "m.flag_status <> 'flagged'", 'NOT m.has_attachments']);
    expect(params).toEqual(['acct-1', 'user-1', 11]);
  });

  it('never splices user input into the SQL text', () => {
    const evil = `x'); DROP TABLE messages; --`;
    const { sql, params } = buildMessagePageQuery(scope, {
      filter: { folderId: evil, from: evil, q: evil, after: evil, before: evil },
      limit: 5,
      after: { receivedAt: evil, id: evil },
    });
    expect(sql).not.toContain('DROP');
    expect(params.filter((p) => typeof p === 'string' && p.includes('DROP'))).toHaveLength(8);
  });

  it('splits the sender filter as the search vector splits a sender: whole addresses kept, other words at @ and .', () => {
    expect(senderFilterText('Bob@Fabrikam.example')).toBe('Bob@Fabrikam.example');
    expect(senderFilterText('carol  contoso.example @northwind.example x@y')).toBe(
      'carol contoso example  northwind example x y',
    );
  });

  it('escapes LIKE wildcards in the sender filter', () => {
    expect(escapeLike('100%_off\\')).toBe('100\\%\\_off\\\\');
    const { params } = buildMessagePageQuery(scope, { filter: { from: 'a_b%' }, limit: 1 });
    expect(params).toContain('%a\\_b\\%%');
  });
});
