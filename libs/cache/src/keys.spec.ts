import calculateSlot from 'cluster-key-slot';
import { CacheKeys } from './keys';

describe('CacheKeys', () => {
  it('puts every key of one account in the same cluster slot', () => {
    const keys = [
      CacheKeys.accountVersion('42'),
      CacheKeys.query('42', 7, 'abc'),
      CacheKeys.accountLock('42', 'token-refresh'),
    ];
    const slots = new Set(keys.map((k) => calculateSlot('prefix:' + k)));
    expect(slots.size).toBe(1);
  });

  it('spreads different accounts over slots', () => {
    const slots = new Set(
      Array.from({ length: 50 }, (_, i) => calculateSlot(CacheKeys.accountVersion(String(i)))),
    );
    expect(slots.size).toBeGreaterThan(40);
  });
});
