import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { Kafka } from 'kafkajs';
import type { ConsumerConfig } from '@email-core/config';
import { syncRequestedSchema, Topics } from '@email-core/contracts';
import { KafkaPublisher, KafkaWorker, runConsumer } from '@email-core/kafka';
import { kafkaLog } from '../messaging/kafka-log';
import { KafkaTopics } from '../messaging/kafka-topics';
import { CONSUMER_CONFIG, KAFKA } from '../messaging/messaging.tokens';
import { SyncMailboxCommand } from './sync-mailbox/sync-mailbox.command';

export const SYNC_GROUP = 'email-core-sync';

/** `sync.requested` from Kafka to the SyncMailbox command; the runner validates, retries and commits. */
@Injectable()
export class SyncRequestsConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('SyncRequestsConsumer');
  private readonly worker: KafkaWorker;

  constructor(
    @Inject(KAFKA) kafka: Kafka,
    @Inject(CONSUMER_CONFIG) config: ConsumerConfig,
    publisher: KafkaPublisher,
    topics: KafkaTopics,
    commandBus: CommandBus,
  ) {
    this.worker = new KafkaWorker({
      name: 'sync-requests consumer',
      logger: this.logger,
      ready: () => topics.ready(),
      start: () =>
        runConsumer({
          kafka,
          groupId: topics.group(SYNC_GROUP),
          topic: topics.name(Topics.syncRequests),
          schema: syncRequestedSchema,
          handle: async (request, ctx) => {
            await commandBus.execute(new SyncMailboxCommand(request, ctx.signal));
          },
          publisher,
          retryTopic: topics.name(Topics.retry),
          deadLetterTopic: topics.name(Topics.deadLetter),
          retry: config.consumers.retry,
          sessionTimeoutMs: config.consumers.sessionTimeoutMs,
          partitionsConsumedConcurrently: config.sync.concurrentPartitions,
          log: kafkaLog(this.logger),
        }),
    });
  }

  onApplicationBootstrap(): void {
    this.worker.begin();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.worker.stop();
  }
}
