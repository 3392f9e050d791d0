import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { AssignerProtocol, type Admin, type GroupDescription } from 'kafkajs';
import { OpsKafka } from '../../ops-kafka';
import { buildKafkaOverview, type GroupInput, type TopicOffsetsInput } from './kafka-overview';
import type { KafkaOverviewDto } from './kafka-overview.dto';
import { GetKafkaOverviewQuery } from './kafka-overview.query';

/**
 * Asks the broker every time (nothing cached: the page polls every few seconds and wants the truth): the
 * project topics' low and end offsets, the project's consumer groups (kafkajs listGroups, filtered to the
 * deployment's prefix) with their state, members' assignments and committed offsets.
 */
@QueryHandler(GetKafkaOverviewQuery)
export class GetKafkaOverviewQueryHandler implements IQueryHandler<GetKafkaOverviewQuery, KafkaOverviewDto> {
  constructor(private readonly kafka: OpsKafka) {}

  execute(): Promise<KafkaOverviewDto> {
    return this.kafka.withAdmin(async (admin) => {
      const topics = await this.topicOffsets(admin);
      const existing = topics.filter((t) => t.exists).map((t) => t.name);
      const { groups } = await admin.listGroups();
      const ids = groups
        .filter((g) => g.protocolType === 'consumer' && this.kafka.isProjectGroup(g.groupId))
        .map((g) => g.groupId);
      const described = ids.length > 0 ? (await admin.describeGroups(ids)).groups : [];
      const inputs: GroupInput[] = await Promise.all(
        described.map(async (g) => ({
          groupId: g.groupId,
          state: g.state,
          members: g.members.length,
          assigned: assignments(g),
          committed:
            existing.length > 0 ? await admin.fetchOffsets({ groupId: g.groupId, topics: existing }) : [],
        })),
      );
      return buildKafkaOverview(this.kafka.prefix, topics, inputs, new Date());
    });
  }

  private async topicOffsets(admin: Admin): Promise<TopicOffsetsInput[]> {
    // only topics the broker has are asked about: kafkajs would otherwise keep asking for a missing one
    const present = new Set(await admin.listTopics());
    return Promise.all(
      this.kafka
        .topics()
        .map(async (t) =>
          present.has(t.name)
            ? { ...t, exists: true, partitions: await admin.fetchTopicOffsets(t.name) }
            : { ...t, exists: false, partitions: [] },
        ),
    );
  }
}

/** topic → partitions assigned to the group's members, from their (consumer protocol) assignments */
function assignments(group: GroupDescription): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const member of group.members) {
    if (member.memberAssignment.length === 0) continue;
    const decoded = AssignerProtocol.MemberAssignment.decode(member.memberAssignment);
    for (const [topic, partitions] of Object.entries(decoded?.assignment ?? {})) {
      out.set(topic, [...(out.get(topic) ?? []), ...partitions]);
    }
  }
  return out;
}
