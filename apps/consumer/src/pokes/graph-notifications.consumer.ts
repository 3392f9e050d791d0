import { Inject, Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { ConsumerConfig } from '@email-core/config';
import { notificationWorkSchema, Topics } from '@email-core/contracts';
import { runBatchConsumer } from '@email-core/kafka';
import { TopicConsumer } from '../messaging/topic-consumer';
import { TopicConsumers } from '../messaging/topic-consumers';
import { CONSUMER_CONFIG } from '../messaging/messaging.tokens';
import { ApplyPokeCommand } from './apply-poke/apply-poke.command';
import { pokeOfNotificationWork } from './graph-notification-pokes';

/** TEMPORARY, until the webhook publishes pokes: the old topic's own group. */
export const GRAPH_NOTIFICATIONS_GROUP = 'email-core-notifications-graph';

/**
 * TEMPORARY (issue 17, until the webhook publishes `mailbox.poke`): `graph.notification` and `mailbox.reconcile`
 * still on the old topic, read as the pokes they mean and run like MailboxPokesConsumer's.
 */
@Injectable()
export class GraphNotificationsConsumer extends TopicConsumer {
  constructor(
    consumers: TopicConsumers,
    @Inject(CONSUMER_CONFIG) config: ConsumerConfig,
    commandBus: CommandBus,
  ) {
    super(consumers, {
      context: 'GraphNotificationsConsumer',
      name: 'graph notifications consumer',
      group: GRAPH_NOTIFICATIONS_GROUP,
      topic: Topics.graphNotifications,
      start: (shared) =>
        runBatchConsumer({
          ...shared,
          schema: notificationWorkSchema,
          // the account the message names, whatever its key (the webhook keys by account too)
          groupOf: (notification) => notification.accountId,
          handleGroup: async (_accountId, messages, ctx) => {
            const pokes = messages.map((m) => pokeOfNotificationWork(m.value));
            await commandBus.execute(new ApplyPokeCommand(pokes, ctx.signal));
          },
          partitionsConsumedConcurrently: config.notifications.concurrentPartitions,
          maxWaitTimeInMs: config.notifications.maxBatchWaitMs,
        }),
    });
  }
}
