import { Inject, Logger, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import type { ConsumerConfig } from '@email-core/config';
import { createKafka, KafkaPublisher } from '@email-core/kafka';
import { ConsumerMetrics } from './consumer-metrics';
import { DomainEventsPublisher } from './domain-events.publisher';
import { kafkaLog } from './kafka-log';
import { KafkaLagGauge } from './kafka-lag.gauge';
import { KafkaTopics } from './kafka-topics';
import { KafkaWorkers } from './kafka-workers';
import { CONSUMER_CONFIG, KAFKA } from './messaging.tokens';
import { PartitionAssignments } from './partition-assignments';
import { RetryConsumer } from './retry.consumer';
import { TopicConsumers } from './topic-consumers';

/** After the workers stopped (all at once, in KafkaWorkers' `onModuleDestroy`), so their last publishes still go out. */
class KafkaPublisherCloser implements OnApplicationShutdown {
  constructor(@Inject(KafkaPublisher) private readonly publisher: KafkaPublisher) {}

  async onApplicationShutdown(): Promise<void> {
    await this.publisher.disconnect().catch(() => undefined);
  }
}

/**
 * Kafka for the workers: one kafkajs client, one idempotent producer, the topic names and readiness gate,
 * domain events, and the retry consumer that feeds failed messages back after their backoff. Not global: AppModule
 * builds it once and the mirror module re-exports it to the features.
 */
@Module({})
export class MessagingModule {
  static forRoot(config: ConsumerConfig): DynamicModule {
    return {
      module: MessagingModule,
      providers: [
        { provide: CONSUMER_CONFIG, useValue: config },
        {
          provide: KAFKA,
          useFactory: () =>
            createKafka({
              brokers: config.kafka.brokers,
              clientId: `${config.kafka.clientId}-consumer`,
              log: kafkaLog(new Logger('kafkajs')),
            }),
        },
        { provide: KafkaPublisher, inject: [KAFKA], useFactory: (kafka: Kafka) => new KafkaPublisher(kafka) },
        KafkaPublisherCloser,
        ConsumerMetrics,
        KafkaLagGauge,
        KafkaTopics,
        KafkaWorkers,
        DomainEventsPublisher,
        TopicConsumers,
        PartitionAssignments,
        RetryConsumer,
      ],
      exports: [
        CONSUMER_CONFIG,
        ConsumerMetrics,
        KAFKA,
        KafkaPublisher,
        KafkaTopics,
        DomainEventsPublisher,
        TopicConsumers,
        PartitionAssignments,
      ],
    };
  }
}
