import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import type { ConsumerConfig } from '@email-core/config';
import { ConsumerGroups, topicName, Topics, type TopicName } from '@email-core/contracts';
import { ConsumerLagReader } from '@email-core/kafka';
import { MetricsRegistry, registerConsumerLagGauge } from '@email-core/metrics';
import { CONSUMER_CONFIG, KAFKA } from './messaging.tokens';

/** a scrape asks the broker at most this often; scrapes in between get the last answer */
export const KAFKA_LAG_TTL_MS = 5_000;

/**
 * `email_core_kafka_consumer_lag{group, topic, partition}`: messages the consumer's groups have still to read, from
 * the broker's end offsets and the groups' committed offsets, asked for when scraped (at most every 5 s, one admin
 * connection kept). Groups and topics are the product's own, by their logical names (the deployment's prefix is
 * not a label); partitions are the topics' partitions: a bounded set whatever the number of accounts.
 */
@Injectable()
export class KafkaLagGauge implements OnApplicationShutdown {
  private readonly logger = new Logger('KafkaLagGauge');
  private readonly reader: ConsumerLagReader<TopicName>;

  constructor(
    registry: MetricsRegistry,
    @Inject(CONSUMER_CONFIG) config: ConsumerConfig,
    @Inject(KAFKA) kafka: Kafka,
  ) {
    const prefix = config.kafka.topicPrefix;
    this.reader = new ConsumerLagReader(kafka, {
      groups: Object.values(ConsumerGroups).map((name) => ({ name, id: `${prefix}${name}` })),
      topics: (Object.values(Topics) as TopicName[]).map((name) => ({ name, id: topicName(prefix, name) })),
      ttlMs: KAFKA_LAG_TTL_MS,
      timeoutMs: 5_000,
      onError: (err) =>
        this.logger.warn(
          `metrics: consumer lag not read, the last values kept: ${err instanceof Error ? err.message : String(err)}`,
        ),
    });
    registerConsumerLagGauge(registry, {
      help: "Messages a consumer group has still to read on a partition (end offset minus the group's committed offset), by group and topic (logical names) and partition; read from the broker at a scrape, at most every 5 s.",
      read: () => this.reader.lags(),
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.reader.close();
  }
}
