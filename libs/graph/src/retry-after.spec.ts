import { isRetryableGraphStatus, retryAfterMs } from './retry-after';

describe('Retry-After', () => {
  const opts = { fallbackMs: 3000, maxMs: 180000, now: Date.parse('2026-11-22T10:00:00Z') };

  it.each([
    ['10', 10000],
    ['2.128', 2128],
    ['0', 0],
    ['Sun, 22 Nov 2026 10:00:30 GMT', 30000],
    [undefined, 3000],
    ['soon', 3000],
    ['86400', 180000],
    ['Sun, 22 Nov 2026 09:00:00 GMT', 0],
  ])('%s waits %d ms', (header, expected) => {
    expect(retryAfterMs(header, opts)).toBe(expected);
  });

  it('retries 429, 503 and 504 only', () => {
    expect([400, 401, 404, 410, 429, 500, 503, 504].filter(isRetryableGraphStatus)).toEqual([429, 503, 504]);
  });
});
