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
import { graphNotificationSchema, Topics } from '@email-core/contracts';
import { KafkaPublisher, KafkaWorker, runBatchConsumer } from '@email-core/kafka';
import { kafkaLog } from '../messaging/kafka-log';
import { KafkaTopics } from '../messaging/kafka-topics';
import { CONSUMER_CONFIG, KAFKA } from '../messaging/messaging.tokens';
import { ApplyNotificationsCommand } from './apply-notifications/apply-notifications.command';

export const NOTIFICATIONS_GROUP = 'email-core-notifications';

/**
 * `graph.notification` from Kafka to ApplyNotifications, coalesced: each fetched batch is grouped by account and
 * each account gets one round for all of its notifications. The runner validates, routes a failed account's
 * messages to retry / dead-letter, and commits the batch only after every round is durable.
 */
@Injectable()
export class GraphNotificationsConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('GraphNotificationsConsumer');
  private readonly worker: KafkaWorker;

  constructor(
    @Inject(KAFKA) kafka: Kafka,
    @Inject(CONSUMER_CONFIG) config: ConsumerConfig,
    publisher: KafkaPublisher,
    topics: KafkaTopics,
    commandBus: CommandBus,
  ) {
    this.worker = new KafkaWorker({
      name: 'notifications consumer',
      logger: this.logger,
      ready: () => topics.ready(),
      start: () =>
        runBatchConsumer({
          kafka,
          groupId: topics.group(NOTIFICATIONS_GROUP),
          topic: topics.name(Topics.graphNotifications),
          schema: graphNotificationSchema,
          // the account the message names, whatever its key (the webhook keys by account too)
          groupOf: (notification) => notification.accountId,
          handleGroup: async (accountId, messages, ctx) => {
            await commandBus.execute(
              new ApplyNotificationsCommand(
                accountId,
                messages.map((m) => m.value),
                ctx.signal,
              ),
            );
          },
          publisher,
          retryTopic: topics.name(Topics.retry),
          deadLetterTopic: topics.name(Topics.deadLetter),
          retry: config.consumers.retry,
          sessionTimeoutMs: config.consumers.sessionTimeoutMs,
          partitionsConsumedConcurrently: config.notifications.concurrentPartitions,
          maxWaitTimeInMs: config.notifications.maxBatchWaitMs,
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
