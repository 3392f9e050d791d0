import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import type { Admin, Kafka } from 'kafkajs';
import type { ProducerConfig } from '@email-core/config';
import {
  CONSUMER_GROUP_STEM,
  topicName,
  Topics,
  WORK_TOPICS,
  type TopicKey,
  type TopicName,
} from '@email-core/contracts';
import { createKafka, KafkaPublisher, LazyAdmin, withTimeout } from '@email-core/kafka';
import { PRODUCER_CONFIG } from '../config.module';
import { AppError } from '../http/app-error';
import { OpsErrors } from './ops-errors';

/** every admin call of one Ops request together; past it the request answers 503 OPS_KAFKA_UNAVAILABLE */
const ADMIN_TIMEOUT_MS = 10000;

export interface ProjectTopic {
  key: TopicKey;
  name: string;
}

/**
 * The Ops API's Kafka: its own client (so an operator's reads never queue behind the outbox relay or the
 * webhook), one admin connection reused across requests, and the publisher replays go through. Topic and group
 * names come only from libs/contracts `Topics` under `KAFKA_TOPIC_PREFIX`, so the API never shows another
 * deployment's (or another test run's) topics sharing the cluster.
 */
@Injectable()
export class OpsKafka implements BeforeApplicationShutdown {
  private readonly logger = new Logger('OpsKafka');
  readonly kafka: Kafka;
  readonly publisher: KafkaPublisher;
  readonly prefix: string;
  private readonly admin: LazyAdmin;

  constructor(@Inject(PRODUCER_CONFIG) config: ProducerConfig) {
    this.prefix = config.kafka.topicPrefix;
    this.kafka = createKafka({
      brokers: config.kafka.brokers,
      clientId: `${config.kafka.clientId}-ops`,
      connectionTimeout: 2000,
      requestTimeout: 5000,
      retries: 2,
      // a failing request answers 503 to the operator; kafkajs' retry chatter is detail
      log: (level, message) =>
        level === 'error' ? this.logger.warn(`kafka: ${message}`) : this.logger.debug(`kafka: ${message}`),
    });
    this.publisher = new KafkaPublisher(this.kafka);
    this.admin = new LazyAdmin(this.kafka);
  }

  name(topic: TopicName): string {
    return topicName(this.prefix, topic);
  }

  /** every topic of the project, in the order libs/contracts lists them */
  topics(): ProjectTopic[] {
    return (Object.keys(Topics) as TopicKey[]).map((key) => ({ key, name: this.name(Topics[key]) }));
  }

  /**
   * The topics a dead letter may be replayed to: the work topics the consumer's workers read (as its retry
   * consumer allows). Not the events topic (its readers never dead-letter), the retry or the dead-letter topic.
   */
  replayTargets(): Set<string> {
    return new Set(WORK_TOPICS.map((t) => this.name(t)));
  }

  /** the consumer groups of the project: the consumer app's and each API instance's real-time group */
  isProjectGroup(groupId: string): boolean {
    return groupId.startsWith(`${this.prefix}${CONSUMER_GROUP_STEM}`);
  }

  /**
   * Runs `fn` with the shared admin client, bounded in time: Kafka being down or slow is a 503 with a code, not
   * a hung request. A failed call drops the connection so the next request starts afresh.
   */
  async withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
    try {
      return await withTimeout(
        (async () => fn(await this.admin.get()))(),
        ADMIN_TIMEOUT_MS,
        'Kafka admin request timed out',
      );
    } catch (err) {
      if (err instanceof AppError) throw err;
      this.admin.drop();
      this.logger.warn(`Kafka admin request failed: ${err instanceof Error ? err.message : String(err)}`);
      throw OpsErrors.kafkaUnavailable(err);
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.admin.close();
    await this.publisher.disconnect().catch(() => undefined);
  }
}

/** kafkajs' error for a topic (or partition) the broker does not have */
export function isUnknownTopic(err: unknown): boolean {
  const type = (err as { type?: unknown } | null)?.type;
  return type === 'UNKNOWN_TOPIC_OR_PARTITION';
}
