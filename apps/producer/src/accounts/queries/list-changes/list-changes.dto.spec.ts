import { listChangesQuerySchema } from './list-changes.dto';

describe('listChangesQuerySchema', () => {
  it('reads since and defaults limit to 500', () => {
    expect(listChangesQuerySchema.parse({ since: '0' })).toEqual({ since: 0, limit: 500 });
    expect(listChangesQuerySchema.parse({ since: '42', limit: '1000' })).toEqual({ since: 42, limit: 1000 });
  });

  it.each([
    ['missing since', {}],
    ['negative since', { since: '-1' }],
    ['fractional since', { since: '1.5' }],
    ['non-numeric since', { since: 'abc' }],
    ['empty since', { since: '' }],
    ['since beyond safe integers', { since: '9007199254740993' }],
    ['a since of 400 digits', { since: '9'.repeat(400) }],
    ['since in exponent form', { since: '1e3' }],
    ['since in hex', { since: '0x10' }],
    ['since NaN', { since: 'NaN' }],
    ['limit 2^53+1', { since: '0', limit: '9007199254740993' }],
    ['repeated since', { since: ['1', '2'] }],
    ['limit 0', { since: '0', limit: '0' }],
    ['limit over 1000', { since: '0', limit: '1001' }],
    ['an unknown parameter', { since: '0', cursor: 'x' }],
  ])('refuses %s', (_name, query) => {
    const parsed = listChangesQuerySchema.safeParse(query);
    expect(parsed.success).toBe(false);
  });

  it('names since in the issue when it is missing', () => {
    const parsed = listChangesQuerySchema.safeParse({});
    expect(parsed.success).toBe(false);
    if (!parsed.success) expect(parsed.error.issues[0]?.path).toEqual(['since']);
  });
});
