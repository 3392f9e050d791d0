/** A partition's offsets as the broker reports them (decimal strings, as kafkajs gives them). */
export interface PartitionOffsets {
  partition: number;
  low: string;
  high: string;
}

/** Offsets `from` (inclusive) to `to` (exclusive) of one partition. */
export interface OffsetRange {
  partition: number;
  from: bigint;
  to: bigint;
}

/**
 * The newest `limit` messages of every partition: `[max(low, high - limit), high)`. Reading that much from
 * each partition is enough to find the newest `limit` of the whole topic, whatever their spread.
 */
export function newestRanges(partitions: PartitionOffsets[], limit: number): OffsetRange[] {
  return partitions
    .map((p) => {
      const low = BigInt(p.low);
      const high = BigInt(p.high);
      const from = high - BigInt(limit) > low ? high - BigInt(limit) : low;
      return { partition: p.partition, from, to: high };
    })
    .filter((r) => r.to > r.from)
    .sort((a, b) => a.partition - b.partition);
}

/** The one-message range of `offset`, or null when the partition does not hold it (never, or no longer). */
export function singleRange(
  partitions: PartitionOffsets[],
  partition: number,
  offset: bigint,
): OffsetRange | null {
  const p = partitions.find((x) => x.partition === partition);
  if (!p || offset < BigInt(p.low) || offset >= BigInt(p.high)) return null;
  return { partition, from: offset, to: offset + 1n };
}
