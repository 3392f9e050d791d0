import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import type { ConsumerConfig } from '@email-core/config';
import { projectTopics, topicName, WORK_TOPICS, type TopicName } from '@email-core/contracts';
import { ensureTopics } from '@email-core/kafka';
import { DatabaseState } from '@email-core/database';
import { CONSUMER_CONFIG, KAFKA } from './messaging.tokens';

/**
 * The deployment's topic names (under `KAFKA_TOPIC_PREFIX`), and the one readiness gate of every worker: the
 * database is migrated and the project's topics exist (created here if a fresh cluster lacks them; idempotent).
 */
@Injectable()
export class KafkaTopics {
  private readonly logger = new Logger('KafkaTopics');
  private ensured: Promise<void> | undefined;

  constructor(
    @Inject(CONSUMER_CONFIG) private readonly config: ConsumerConfig,
    @Inject(KAFKA) private readonly kafka: Kafka,
    private readonly database: DatabaseState,
  ) {}

  name(topic: TopicName): string {
    return topicName(this.config.kafka.topicPrefix, topic);
  }

  /** Every topic a failed message may be sent back to by the retry consumer. */
  retryTargets(): string[] {
    return WORK_TOPICS.map((t) => this.name(t));
  }

  /** A consumer group name, under the topic prefix so test runs (and deployments sharing a cluster) never mix. */
  group(name: string): string {
    return `${this.config.kafka.topicPrefix}${name}`;
  }

  async ready(): Promise<boolean> {
    if (!this.database.migrated) return false;
    this.ensured ??= this.ensure().catch((err: unknown) => {
      this.ensured = undefined;
      throw err;
    });
    await this.ensured;
    return true;
  }

  private async ensure(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const result = await ensureTopics(
        admin,
        projectTopics({
          prefix: this.config.kafka.topicPrefix,
          partitions: this.config.kafka.partitions,
          replicationFactor: this.config.kafka.replicationFactor,
        }),
      );
      if (result.created.length + result.grown.length > 0) {
        this.logger.log(`topics created: ${result.created.length}, grown: ${result.grown.length}`);
      }
    } finally {
      await admin.disconnect();
    }
  }
}
