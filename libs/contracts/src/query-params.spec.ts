import { isoInstant, isStorableInstant, wholeNumberParam } from './query-params';

describe('query parameter rules (issue 16: Postgres must never see a date or number it refuses)', () => {
  it.each([
    ['2025-01-31T00:00:00Z', true],
    ['2025-01-31T00:00:00.123456+01:00', true],
    ['0001-01-01T00:00:00Z', true],
    ['9999-12-31T23:59:59.999Z', true],
    ['2025-01-01T00:00:00+14:00', true],
    ['0000-01-01T00:00:00Z', false],
    ['0000-12-31T23:00:00-02:00', false],
    ['0001-01-01T00:00:00+01:00', false],
    ['9999-12-31T23:59:59-01:00', false],
    ['2025-01-01T00:00:00+14:01', false],
    ['2025-01-01T00:00:00+16:00', false],
    ['2025-01-01T00:00:00+99:99', false],
  ])('isStorableInstant(%s) is %s', (value, ok) => {
    expect(isStorableInstant(value)).toBe(ok);
  });

  it.each([
    '-infinity',
    'infinity',
    'NaN',
    '2024-02-30T00:00:00Z',
    '+275760-09-13T00:00:00Z',
    '2025-01-01',
    'x'.repeat(100),
  ])('isoInstant refuses %s', (value) => {
    expect(isoInstant().safeParse(value).success).toBe(false);
  });

  it('wholeNumberParam takes digits within its range only', () => {
    const limit = wholeNumberParam('limit', 1, 200);
    expect(limit.parse('007')).toBe(7);
    for (const bad of [
      '0',
      '201',
      '-1',
      '1.0',
      '1e2',
      '0x10',
      ' 5',
      'NaN',
      'Infinity',
      '9'.repeat(400),
      '',
    ]) {
      expect(limit.safeParse(bad).success).toBe(false);
    }
    const since = wholeNumberParam('since', 0, Number.MAX_VALUE);
    expect(since.parse(String(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
    expect(since.safeParse('9007199254740993').success).toBe(false);
  });
});
