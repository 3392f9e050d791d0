import type { TopicKey } from '@email-core/contracts';
import {
  GROUP_STATES,
  type ConsumerGroupDto,
  type GroupState,
  type KafkaOverviewDto,
  type KafkaTopicDto,
} from './kafka-overview.dto';

/** What the broker said about one project topic (offsets as kafkajs gives them: decimal strings). */
export interface TopicOffsetsInput {
  key: TopicKey;
  name: string;
  exists: boolean;
  partitions: Array<{ partition: number; low: string; high: string }>;
}

/** What the broker said about one consumer group. */
export interface GroupInput {
  groupId: string;
  state: string;
  members: number;
  /** topic → partitions assigned to its members now (empty for a group without members) */
  assigned: ReadonlyMap<string, readonly number[]>;
  /** committed offsets; kafkajs answers `-1` for a partition without one */
  committed: Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>;
}

const toNumber = (offset: string): number => Number(offset);
const sum = (values: Array<number | null>): number => values.reduce<number>((a, v) => a + (v ?? 0), 0);

function groupState(state: string): GroupState {
  return (GROUP_STATES as readonly string[]).includes(state) ? (state as GroupState) : 'Unknown';
}

/**
 * The Ops overview from the broker's answers: pure, so the lag arithmetic is tested without Kafka.
 * A group's topics are the project topics it is assigned or has committed offsets on; each lists every
 * partition of the topic, with `lag = end - committed` (never negative: a commit can land between the two
 * reads) or null where the group has committed nothing.
 */
export function buildKafkaOverview(
  topicPrefix: string,
  topics: TopicOffsetsInput[],
  groups: GroupInput[],
  now: Date,
): KafkaOverviewDto {
  const topicDtos: KafkaTopicDto[] = topics.map((t) => {
    const partitions = [...t.partitions]
      .sort((a, b) => a.partition - b.partition)
      .map((p) => ({
        partition: p.partition,
        lowOffset: toNumber(p.low),
        endOffset: toNumber(p.high),
        messages: Math.max(0, toNumber(p.high) - toNumber(p.low)),
      }));
    return {
      key: t.key,
      name: t.name,
      exists: t.exists,
      partitions,
      endOffsetTotal: sum(partitions.map((p) => p.endOffset)),
    };
  });
  const byName = new Map(topicDtos.map((t) => [t.name, t]));

  const groupDtos: ConsumerGroupDto[] = groups
    .map((g) => {
      const committed = new Map<string, Map<number, number>>();
      for (const c of g.committed) {
        const offsets = new Map<number, number>();
        for (const p of c.partitions)
          if (toNumber(p.offset) >= 0) offsets.set(p.partition, toNumber(p.offset));
        if (offsets.size > 0) committed.set(c.topic, offsets);
      }
      const names = topicDtos
        .map((t) => t.name)
        .filter((name) => committed.has(name) || (g.assigned.get(name)?.length ?? 0) > 0);
      const topicLags = names.map((name) => {
        const offsets = committed.get(name) ?? new Map<number, number>();
        const partitions = (byName.get(name)?.partitions ?? []).map((p) => {
          const at = offsets.get(p.partition);
          return {
            partition: p.partition,
            committedOffset: at ?? null,
            endOffset: p.endOffset,
            lag: at === undefined ? null : Math.max(0, p.endOffset - at),
          };
        });
        return { topic: name, partitions, lag: sum(partitions.map((p) => p.lag)) };
      });
      return {
        groupId: g.groupId,
        state: groupState(g.state),
        members: g.members,
        topics: topicLags,
        totalLag: sum(topicLags.map((t) => t.lag)),
      };
    })
    .sort((a, b) => a.groupId.localeCompare(b.groupId));

  return {
    topicPrefix,
    fetchedAt: now.toISOString(),
    topics: topicDtos,
    groups: groupDtos,
    totalLag: sum(groupDtos.map((g) => g.totalLag)),
  };
}
