import { Topics } from '@email-core/contracts';
import { PartitionAssignments } from './partition-assignments';

describe('PartitionAssignments', () => {
  it('holds each topic’s partitions and tells listeners of real changes only', () => {
    const assignments = new PartitionAssignments();
    const seen: number[][] = [];
    const off = assignments.onChange((topic, partitions) => {
      if (topic === Topics.mailboxPokes) seen.push([...partitions]);
    });
    expect(assignments.of(Topics.mailboxPokes)).toBeUndefined();
    assignments.update(Topics.mailboxPokes, [0, 2]);
    assignments.update(Topics.mailboxPokes, [2, 0]);
    assignments.update(Topics.syncRequests, [1]);
    assignments.update(Topics.mailboxPokes, []);
    expect(seen).toEqual([[0, 2], []]);
    expect([...(assignments.of(Topics.syncRequests) ?? [])]).toEqual([1]);
    off();
    assignments.update(Topics.mailboxPokes, [1]);
    expect(seen).toHaveLength(2);
  });
});
