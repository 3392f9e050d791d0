import { encodeMessageCursor } from '@email-core/database';
import { listMessagesQuerySchema } from './list-messages.dto';

const parse = (query: Record<string, unknown>) => listMessagesQuerySchema.safeParse(query);

describe('listMessagesQuerySchema', () => {
  it('defaults to 50 rows, no filters', () => {
    expect(parse({})).toEqual({ success: true, data: { filter: {}, limit: 50, cursor: undefined } });
  });

  it('parses every parameter into a filter, a limit and a decoded cursor', () => {
    const key = { receivedAt: '2025-01-01T00:00:00.000000Z', id: 'AAMk=_-' };
    const result = parse({
      folderId: 'f-1',
      unread: 'true',
      flagged: '0',
      hasAttachments: '1',
      from: '  alice ',
      after: '2025-01-01T00:00:00Z',
      before: '2025-02-01T00:00:00+01:00',
      q: ' invoice ',
      limit: '200',
      cursor: encodeMessageCursor(key),
    });
    expect(result).toEqual({
      success: true,
      data: {
        filter: {
          folderId: 'f-1',
          unread: true,
          flagged: false,
          hasAttachments: true,
          from: 'alice',
          after: '2025-01-01T00:00:00Z',
          before: '2025-02-01T00:00:00+01:00',
          q: 'invoice',
        },
        limit: 200,
        cursor: key,
      },
    });
  });

  it('takes the edges of the range Postgres and JS share', () => {
    expect(parse({ after: '0001-01-01T00:00:00Z', before: '9999-12-31T23:59:59.999Z' }).success).toBe(true);
    expect(parse({ after: '2025-01-01T00:00:00+14:00' }).success).toBe(true);
  });

  it('drops blank text filters', () => {
    expect(parse({ q: '   ', from: '' })).toMatchObject({ success: true, data: { filter: {} } });
  });

  it.each([
    ['limit 0', { limit: '0' }, 'limit'],
    ['limit over 200', { limit: '201' }, 'limit'],
    ['limit not a number', { limit: '5x' }, 'limit'],
    ['a non-boolean flag', { unread: 'yes' }, 'unread'],
    ['a repeated parameter', { folderId: ['a', 'b'] }, 'folderId'],
    ['a date without zone', { after: '2025-01-01' }, 'after'],
    ['after not before before', { after: '2025-02-01T00:00:00Z', before: '2025-01-01T00:00:00Z' }, 'after'],
    ['a forged cursor', { cursor: 'bm90LWEtY3Vyc29y' }, 'cursor'],
    // issue 16: each of these passed validation and made Postgres fail with a 500
    ['year 0', { after: '0000-01-01T00:00:00Z' }, 'after'],
    ['year 0 before', { before: '0000-06-01T00:00:00+02:00' }, 'before'],
    ['a zone Postgres refuses', { after: '2025-01-01T00:00:00+16:00' }, 'after'],
    ['a zone JS cannot read', { before: '2025-01-01T00:00:00+99:99' }, 'before'],
    ['year 10000', { after: '+010000-01-01T00:00:00Z' }, 'after'],
    ['-infinity', { after: '-infinity' }, 'after'],
    ['NaN', { before: 'NaN' }, 'before'],
    [
      'a cursor at year 0',
      { cursor: encodeMessageCursor({ receivedAt: '0000-01-01T00:00:00Z', id: 'x' }) },
      'cursor',
    ],
    [
      'a cursor whose id holds a NUL',
      { cursor: encodeMessageCursor({ receivedAt: '2025-01-01T00:00:00Z', id: 'a\u0000b' }) },
      'cursor',
    ],
    ['a limit of 400 digits', { limit: '9'.repeat(400) }, 'limit'],
    ['a limit of 2^53+1', { limit: '9007199254740993' }, 'limit'],
    ['a limit in exponent form', { limit: '1e2' }, 'limit'],
    ['an unknown parameter', { unred: 'true' }, ''],
  ])('refuses %s', (_what, query, path) => {
    const result = parse(query);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join('.'))).toContain(path);
  });
});
