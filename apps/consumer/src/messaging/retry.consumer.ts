import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type BeforeApplicationShutdown,
} from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { ConsumerGroups, Topics } from '@email-core/contracts';
import { KafkaPublisher, KafkaWorker, runRetryConsumer } from '@email-core/kafka';
import { KafkaTopics } from './kafka-topics';
import { KAFKA } from './messaging.tokens';
import { kafkaLog } from './kafka-log';
import { KafkaWorkers } from './kafka-workers';

/** Sends failed messages back to their topic once their backoff has passed (one group for every topic). */
@Injectable()
export class RetryConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('RetryConsumer');
  private readonly worker: KafkaWorker;

  constructor(
    @Inject(KAFKA) kafka: Kafka,
    publisher: KafkaPublisher,
    topics: KafkaTopics,
    workers: KafkaWorkers,
  ) {
    this.worker = new KafkaWorker({
      name: 'retry consumer',
      logger: this.logger,
      ready: () => topics.ready(),
      start: () =>
        runRetryConsumer({
          kafka,
          groupId: topics.group(ConsumerGroups.retry),
          retryTopic: topics.name(Topics.retry),
          deadLetterTopic: topics.name(Topics.deadLetter),
          publisher,
          allowedTopics: topics.retryTargets(),
          log: kafkaLog(this.logger),
        }),
    });
    workers.add(this.worker);
  }

  onApplicationBootstrap(): void {
    this.worker.begin();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.worker.stop();
  }
}
