import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { ConsumerConfig } from '@email-core/config';
import { notificationWorkSchema, Topics, type GraphNotification } from '@email-core/contracts';
import { runBatchConsumer, type KafkaWorker } from '@email-core/kafka';
import { TopicConsumers } from '../messaging/topic-consumers';
import { CONSUMER_CONFIG } from '../messaging/messaging.tokens';
import { ApplyNotificationsCommand } from './apply-notifications/apply-notifications.command';

export const NOTIFICATIONS_GROUP = 'email-core-notifications';

/**
 * `graph.notification` (and the reconciliation's `mailbox.reconcile`) from Kafka to ApplyNotifications,
 * coalesced: each fetched batch is grouped by account and each account gets one round for all of its
 * notifications (every folder when a reconciliation is among them). The runner validates, routes a failed account's
 * messages to retry / dead-letter, and commits the batch only after every round is durable.
 */
@Injectable()
export class GraphNotificationsConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('GraphNotificationsConsumer');
  private readonly worker: KafkaWorker;

  constructor(
    consumers: TopicConsumers,
    @Inject(CONSUMER_CONFIG) config: ConsumerConfig,
    commandBus: CommandBus,
  ) {
    this.worker = consumers.worker({
      name: 'notifications consumer',
      logger: this.logger,
      group: NOTIFICATIONS_GROUP,
      topic: Topics.graphNotifications,
      start: (shared) =>
        runBatchConsumer({
          ...shared,
          schema: notificationWorkSchema,
          // the account the message names, whatever its key (the webhook keys by account too)
          groupOf: (notification) => notification.accountId,
          handleGroup: async (accountId, messages, ctx) => {
            const notifications = messages
              .map((m) => m.value)
              .filter((v): v is GraphNotification => v.type === 'graph.notification');
            const reconcile = messages.some((m) => m.value.type === 'mailbox.reconcile');
            await commandBus.execute(
              new ApplyNotificationsCommand(accountId, notifications, ctx.signal, reconcile),
            );
          },
          partitionsConsumedConcurrently: config.notifications.concurrentPartitions,
          maxWaitTimeInMs: config.notifications.maxBatchWaitMs,
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
