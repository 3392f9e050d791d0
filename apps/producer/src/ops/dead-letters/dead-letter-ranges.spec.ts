import { newestRanges, singleRange } from './dead-letter-ranges';

describe('dead-letter ranges', () => {
  const partitions = [
    { partition: 2, low: '0', high: '3' },
    { partition: 0, low: '40', high: '120' },
    { partition: 1, low: '7', high: '7' },
  ];

  it('reads the newest `limit` of each partition, not before its low offset, skipping empty ones', () => {
    expect(newestRanges(partitions, 50)).toEqual([
      { partition: 0, from: 70n, to: 120n },
      { partition: 2, from: 0n, to: 3n },
    ]);
    expect(newestRanges(partitions, 100)[0]).toEqual({ partition: 0, from: 40n, to: 120n });
  });

  it('finds one offset only where the partition still holds it', () => {
    expect(singleRange(partitions, 0, 40n)).toEqual({ partition: 0, from: 40n, to: 41n });
    expect(singleRange(partitions, 0, 119n)).toEqual({ partition: 0, from: 119n, to: 120n });
    expect(singleRange(partitions, 0, 39n)).toBeNull(); // removed by retention
    expect(singleRange(partitions, 0, 120n)).toBeNull(); // not written yet
    expect(singleRange(partitions, 1, 7n)).toBeNull();
    expect(singleRange(partitions, 9, 0n)).toBeNull(); // no such partition
  });
});
