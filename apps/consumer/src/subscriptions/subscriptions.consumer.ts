import { Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ConsumerGroups, subscriptionWorkSchema, Topics, type SubscriptionWork } from '@email-core/contracts';
import { runConsumer } from '@email-core/kafka';
import { TopicConsumer } from '../messaging/topic-consumer';
import { TopicConsumers } from '../messaging/topic-consumers';
import { DeleteSubscriptionCommand } from './commands/delete-subscription/delete-subscription.command';
import { EnsureSubscriptionCommand } from './commands/ensure-subscription/ensure-subscription.command';
import { HandleSubscriptionLifecycleCommand } from './commands/handle-subscription-lifecycle/handle-subscription-lifecycle.command';

/** Subscription work is a few Graph calls per message (a create waits for Graph's validation handshake). */
const PARTITIONS_AT_ONCE = 3;

/** The command each kind of subscription work runs. */
export function subscriptionCommand(
  work: SubscriptionWork,
): EnsureSubscriptionCommand | HandleSubscriptionLifecycleCommand | DeleteSubscriptionCommand {
  switch (work.type) {
    case 'subscription.ensure':
      return new EnsureSubscriptionCommand(work.accountId, work.reason, 'wait');
    case 'subscription.lifecycle':
      return new HandleSubscriptionLifecycleCommand(work);
    case 'subscription.delete':
      return new DeleteSubscriptionCommand(work.accountId, work.removalId);
  }
}

/** `subscription.*` from Kafka to their commands; the runner validates, retries and commits. */
@Injectable()
export class SubscriptionsConsumer extends TopicConsumer {
  constructor(consumers: TopicConsumers, commandBus: CommandBus) {
    super(consumers, {
      context: 'SubscriptionsConsumer',
      name: 'subscriptions consumer',
      group: ConsumerGroups.subscriptions,
      topic: Topics.subscriptions,
      start: (shared) =>
        runConsumer({
          ...shared,
          schema: subscriptionWorkSchema,
          handle: async (work) => {
            await commandBus.execute(subscriptionCommand(work));
          },
          partitionsConsumedConcurrently: PARTITIONS_AT_ONCE,
        }),
    });
  }
}
