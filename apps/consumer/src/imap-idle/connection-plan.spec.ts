import { partitionOfKey } from '@email-core/kafka';
import { ownedAccounts, planConnections } from './connection-plan';

const ids = Array.from({ length: 40 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);

describe('ownedAccounts', () => {
  it('owns nothing before an assignment is known', () => {
    expect(ownedAccounts(ids, undefined, 3)).toEqual([]);
    expect(ownedAccounts(ids, new Set(), 3)).toEqual([]);
    expect(ownedAccounts(ids, new Set([0, 1, 2]), undefined)).toEqual([]);
  });

  it('owns exactly the accounts whose key lands on a held partition: the members of a group split them', () => {
    const a = ownedAccounts(ids, new Set([0, 2]), 3);
    const b = ownedAccounts(ids, new Set([1]), 3);
    expect([...a, ...b].sort()).toEqual([...ids].sort());
    expect(a.filter((id) => b.includes(id))).toEqual([]);
    for (const id of a) expect([0, 2]).toContain(partitionOfKey(id, 3));
    expect(ownedAccounts(ids, new Set([0, 1, 2]), 3)).toEqual(ids);
  });
});

describe('partitionOfKey', () => {
  it('is the publisher partitioner (kafkajs DefaultPartitioner, murmur2): deterministic, spread, in range', () => {
    // the int-spec checks it against where KafkaPublisher's messages really land
    expect(partitionOfKey('a', 3)).toBe(partitionOfKey('a', 3));
    expect(new Set(ids.map((id) => partitionOfKey(id, 6))).size).toBeGreaterThan(3);
    for (const id of ids) {
      const p = partitionOfKey(id, 6);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(6);
    }
  });

  it('refuses a partition count that is not a positive integer', () => {
    expect(() => partitionOfKey('a', 0)).toThrow(RangeError);
  });
});

describe('planConnections', () => {
  it('gives IDLE to the first accounts up to the budget and polls the rest', () => {
    expect(planConnections(['c', 'a', 'b', 'd'], new Set(), 2)).toEqual({
      idle: ['a', 'b'],
      polled: ['c', 'd'],
    });
  });

  it('keeps the connections it has while they are owned (no churn when accounts are added)', () => {
    expect(planConnections(['a', 'b', 'c', 'd'], new Set(['c', 'd']), 2)).toEqual({
      idle: ['c', 'd'],
      polled: ['a', 'b'],
    });
    // one connected account left: its place goes to the first waiting one
    expect(planConnections(['a', 'b', 'c'], new Set(['c', 'd']), 2)).toEqual({
      idle: ['a', 'c'],
      polled: ['b'],
    });
  });

  it('a budget of 0 polls every account; a shrunk budget closes the surplus', () => {
    expect(planConnections(['a', 'b'], new Set(['a']), 0)).toEqual({ idle: [], polled: ['a', 'b'] });
    expect(planConnections(['a', 'b', 'c'], new Set(['a', 'b', 'c']), 1)).toEqual({
      idle: ['a'],
      polled: ['b', 'c'],
    });
  });

  it('counts each account once', () => {
    expect(planConnections(['a', 'a', 'b'], new Set(), 5)).toEqual({ idle: ['a', 'b'], polled: [] });
  });
});
