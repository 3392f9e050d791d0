import { retryDelayMs, shuffle } from './backoff';

describe('retryDelayMs', () => {
  it('starts at the base, doubles after each failed attempt and stops at the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => retryDelayMs(n, 1000, 60000))).toEqual([
      1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000,
    ]);
    expect([1, 2, 3].map((n) => retryDelayMs(n, 200, 500))).toEqual([200, 400, 500]);
  });
});

describe('shuffle', () => {
  it('permutes in place, keeping every item', () => {
    const items = [1, 2, 3, 4, 5];
    const out = shuffle(items, () => 0);
    expect(out).toBe(items);
    expect(out).toEqual([2, 3, 4, 5, 1]);
    expect([...shuffle([1, 2, 3, 4, 5])].sort()).toEqual([1, 2, 3, 4, 5]);
  });
});
