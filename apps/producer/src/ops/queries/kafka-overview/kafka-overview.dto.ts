import { ApiProperty } from '@nestjs/swagger';
import { Topics, type TopicKey } from '@email-core/contracts';

const TOPIC_KEYS = Object.keys(Topics) as TopicKey[];

/** kafkajs' (and Kafka's) consumer group states */
export const GROUP_STATES = [
  'Stable',
  'PreparingRebalance',
  'CompletingRebalance',
  'Empty',
  'Dead',
  'Unknown',
] as const;
export type GroupState = (typeof GROUP_STATES)[number];

export class TopicPartitionDto {
  @ApiProperty({ example: 0 })
  partition!: number;

  @ApiProperty({ description: 'the oldest offset still on the broker (retention removes older ones)' })
  lowOffset!: number;

  @ApiProperty({ description: 'the end (high-water) offset: the offset the next message will get' })
  endOffset!: number;

  @ApiProperty({ description: 'messages retained: endOffset - lowOffset' })
  messages!: number;
}

export class KafkaTopicDto {
  @ApiProperty({ enum: TOPIC_KEYS, description: 'the topic as libs/contracts `Topics` names it' })
  key!: TopicKey;

  @ApiProperty({ example: 'email-core.sync.requests', description: 'the full name, prefix included' })
  name!: string;

  @ApiProperty({ description: 'false when the broker does not have it (the consumer creates the topics)' })
  exists!: boolean;

  @ApiProperty({ type: () => [TopicPartitionDto] })
  partitions!: TopicPartitionDto[];

  @ApiProperty({ description: 'sum of the partitions’ end offsets' })
  endOffsetTotal!: number;
}

export class GroupPartitionLagDto {
  @ApiProperty()
  partition!: number;

  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'the group’s committed offset (the next message it will read); null when it has none',
  })
  committedOffset!: number | null;

  @ApiProperty()
  endOffset!: number;

  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'endOffset - committedOffset: messages not yet processed; null without a committed offset',
  })
  lag!: number | null;
}

export class GroupTopicLagDto {
  @ApiProperty({ description: 'the full topic name' })
  topic!: string;

  @ApiProperty({ type: () => [GroupPartitionLagDto] })
  partitions!: GroupPartitionLagDto[];

  @ApiProperty({ description: 'sum of the partitions’ known lags' })
  lag!: number;
}

export class ConsumerGroupDto {
  @ApiProperty({ example: 'email-core-sync', description: 'the full group id, prefix included' })
  groupId!: string;

  @ApiProperty({ enum: GROUP_STATES })
  state!: GroupState;

  @ApiProperty({ description: 'members (consumer processes) in the group now' })
  members!: number;

  @ApiProperty({
    type: () => [GroupTopicLagDto],
    description: 'the project topics the group is assigned or has committed offsets on',
  })
  topics!: GroupTopicLagDto[];

  @ApiProperty({ description: 'sum of the group’s known lags over every topic' })
  totalLag!: number;
}

export class KafkaOverviewDto {
  @ApiProperty({ description: 'KAFKA_TOPIC_PREFIX of this deployment (may be empty)' })
  topicPrefix!: string;

  @ApiProperty({ format: 'date-time', description: 'when the broker was asked (nothing is cached)' })
  fetchedAt!: string;

  @ApiProperty({ type: () => [KafkaTopicDto] })
  topics!: KafkaTopicDto[];

  @ApiProperty({ type: () => [ConsumerGroupDto] })
  groups!: ConsumerGroupDto[];

  @ApiProperty({ description: 'sum of every group’s total lag' })
  totalLag!: number;
}
