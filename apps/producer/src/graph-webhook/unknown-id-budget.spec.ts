import { UnknownIdBudget } from './unknown-id-budget';

describe('UnknownIdBudget', () => {
  let now: number;
  const budget = (maxSources?: number) =>
    new UnknownIdBudget({ limit: 100, windowMs: 60_000, maxSources, now: () => now });

  beforeEach(() => {
    now = 5_000_000;
  });

  it('is exhausted once a source has spent its limit, until its window ends', () => {
    const b = budget();
    b.spend('a', 99);
    expect(b.exhausted('a')).toBeUndefined();
    b.spend('a', 1);
    expect(b.exhausted('a')).toBe(60);
    now += 59_000;
    expect(b.exhausted('a')).toBe(1);
    now += 1_000;
    expect(b.exhausted('a')).toBeUndefined();
    expect(b.exhausted('b')).toBeUndefined();
  });

  it('spending nothing opens no window, and at most maxSources windows are kept', () => {
    const b = budget(10);
    b.spend('a', 0);
    for (let i = 0; i <= 10; i++) b.spend(`s-${i}`, 100);
    // over 10: the oldest tenth goes at once (9 kept)
    expect(b.exhausted('s-0')).toBeUndefined();
    expect(b.exhausted('s-1')).toBeUndefined();
    expect(b.exhausted('s-2')).toBe(60);
    expect(b.exhausted('s-10')).toBe(60);
  });
});
