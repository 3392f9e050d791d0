import { Partitioners, type Consumer, type PartitionMetadata } from 'kafkajs';

/** Told the partitions of its topic this member holds: after every join of the group, and `[]` once it stopped. */
export type AssignmentListener = (partitions: number[]) => void;

/**
 * Reports a consumer's assignment of `topic` to `listener`: kafkajs' GROUP_JOIN event (after each join and sync
 * of the group: the member's partitions now) and `[]` when the consumer stops, crashes or disconnects (it holds
 * nothing any more). Attached before `run()`, so the first join is not missed.
 */
export function watchAssignment(consumer: Consumer, topic: string, listener: AssignmentListener): void {
  const safe = (partitions: number[]) => {
    try {
      listener([...partitions].sort((a, b) => a - b));
    } catch {
      // a listener's failure is its own; the consumer goes on
    }
  };
  consumer.on(consumer.events.GROUP_JOIN, (e) => safe(e.payload.memberAssignment[topic] ?? []));
  consumer.on(consumer.events.STOP, () => safe([]));
  consumer.on(consumer.events.CRASH, () => safe([]));
  consumer.on(consumer.events.DISCONNECT, () => safe([]));
}

const partitioner = Partitioners.DefaultPartitioner();

/**
 * The partition a keyed message lands on among `partitionCount` partitions: the same murmur2 partitioner the
 * product's publisher uses (`KafkaPublisher`, the Java client's default), so a key's owner can be computed.
 */
export function partitionOfKey(key: string, partitionCount: number): number {
  if (!Number.isInteger(partitionCount) || partitionCount < 1) {
    throw new RangeError(`partitionCount must be a positive integer, got ${partitionCount}`);
  }
  const partitionMetadata: PartitionMetadata[] = Array.from({ length: partitionCount }, (_, i) => ({
    partitionId: i,
    leader: 0,
    replicas: [0],
    isr: [0],
    partitionErrorCode: 0,
    offlineReplicas: [],
  }));
  return partitioner({ topic: 'partition-of-key', partitionMetadata, message: { key, value: null } });
}
