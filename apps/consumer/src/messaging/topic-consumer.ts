import { Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { TopicName } from '@email-core/contracts';
import type { KafkaWorker, RunningConsumer } from '@email-core/kafka';
import type { SharedConsumerOptions, TopicConsumers } from './topic-consumers';

/** What a topic consumer is: its worker's name, its group and topic, and how it runs (schema, handler, partitions). */
export interface TopicConsumerSpec {
  /** the worker's name in logs, e.g. 'sync-requests consumer' */
  name: string;
  /** the logger's context, e.g. 'SyncRequestsConsumer' */
  context: string;
  group: string;
  topic: TopicName;
  start: (shared: SharedConsumerOptions) => Promise<RunningConsumer>;
}

/**
 * The skeleton every Kafka consumer of the process shares: a background worker built by TopicConsumers (ready once
 * the database is migrated and the topics exist; the process's retry and dead-letter topics), begun when the app
 * has booted and stopped before it shuts down. A subclass only says what it consumes and which use case runs.
 */
export abstract class TopicConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  protected readonly logger: Logger;
  private readonly worker: KafkaWorker;

  protected constructor(consumers: TopicConsumers, spec: TopicConsumerSpec) {
    this.logger = new Logger(spec.context);
    this.worker = consumers.worker({
      name: spec.name,
      logger: this.logger,
      group: spec.group,
      topic: spec.topic,
      start: spec.start,
    });
  }

  onApplicationBootstrap(): void {
    this.worker.begin();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.worker.stop();
  }
}
