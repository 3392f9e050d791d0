import { Injectable } from '@nestjs/common';
import type { TopicName } from '@email-core/contracts';

export type AssignmentChange = (topic: TopicName, partitions: ReadonlySet<number>) => void;

/**
 * The partitions of each work topic this process's consumers hold now, as kafkajs reports them (every group join;
 * nothing once a consumer stopped). What follows a key's partition (an IMAP account's IDLE connection, kept by the
 * instance that owns the account's partition of the pokes topic) listens here. Unknown until the first join.
 */
@Injectable()
export class PartitionAssignments {
  private readonly held = new Map<TopicName, ReadonlySet<number>>();
  private readonly listeners = new Set<AssignmentChange>();

  /** the partitions held of `topic`; undefined before its consumer first joined its group */
  of(topic: TopicName): ReadonlySet<number> | undefined {
    return this.held.get(topic);
  }

  /** `listener` is told every change; the returned function unsubscribes it */
  onChange(listener: AssignmentChange): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  update(topic: TopicName, partitions: readonly number[]): void {
    const next = new Set(partitions);
    const prev = this.held.get(topic);
    if (prev && prev.size === next.size && [...next].every((p) => prev.has(p))) return;
    this.held.set(topic, next);
    for (const listener of this.listeners) {
      try {
        listener(topic, next);
      } catch {
        // a listener's failure is its own
      }
    }
  }
}
