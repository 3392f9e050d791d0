import { Inject, Injectable, type Logger } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import type { ConsumerConfig } from '@email-core/config';
import { Topics, type TopicName } from '@email-core/contracts';
import {
  KafkaPublisher,
  KafkaWorker,
  type RunConsumerOptions,
  type RunningConsumer,
} from '@email-core/kafka';
import { ConsumerMetrics } from './consumer-metrics';
import { kafkaLog } from './kafka-log';
import { KafkaWorkers } from './kafka-workers';
import { KafkaTopics } from './kafka-topics';
import { CONSUMER_CONFIG, KAFKA } from './messaging.tokens';
import { PartitionAssignments } from './partition-assignments';

/** What every worker of this process consumes with: its group and topic, and the shared failure policy. */
export type SharedConsumerOptions = Pick<
  RunConsumerOptions<unknown>,
  | 'kafka'
  | 'groupId'
  | 'topic'
  | 'publisher'
  | 'retryTopic'
  | 'deadLetterTopic'
  | 'retry'
  | 'sessionTimeoutMs'
  | 'log'
  | 'onAssignment'
  | 'onOutcome'
>;

/**
 * Builds the background worker of one topic consumer: started once the database is migrated and the topics
 * exist, under the deployment's prefix, with the process's retry topic, dead-letter topic, backoff and session
 * timeout. `start` adds what is particular to it (schema, handler, partitions) and picks the runner
 * (`runConsumer` or `runBatchConsumer`). Every worker is registered with KafkaWorkers, which stops them all
 * at once on shutdown.
 */
@Injectable()
export class TopicConsumers {
  constructor(
    @Inject(KAFKA) private readonly kafka: Kafka,
    @Inject(CONSUMER_CONFIG) private readonly config: ConsumerConfig,
    private readonly publisher: KafkaPublisher,
    private readonly topics: KafkaTopics,
    private readonly workers: KafkaWorkers,
    private readonly assignments: PartitionAssignments,
    private readonly metrics: ConsumerMetrics,
  ) {}

  worker(opts: {
    name: string;
    logger: Logger;
    group: string;
    topic: TopicName;
    start: (shared: SharedConsumerOptions) => Promise<RunningConsumer>;
  }): KafkaWorker {
    return this.workers.add(
      new KafkaWorker({
        name: opts.name,
        logger: opts.logger,
        ready: () => this.topics.ready(),
        start: () =>
          opts.start({
            kafka: this.kafka,
            groupId: this.topics.group(opts.group),
            topic: this.topics.name(opts.topic),
            publisher: this.publisher,
            retryTopic: this.topics.name(Topics.retry),
            deadLetterTopic: this.topics.name(Topics.deadLetter),
            retry: this.config.consumers.retry,
            sessionTimeoutMs: this.config.consumers.sessionTimeoutMs,
            log: kafkaLog(opts.logger),
            onAssignment: (partitions) => this.assignments.update(opts.topic, partitions),
            // by the topic's logical name: a deployment's (or a test run's) prefix adds no series
            onOutcome: (outcome, count) => this.metrics.kafkaMessages(opts.topic, outcome, count),
          }),
      }),
    );
  }
}
