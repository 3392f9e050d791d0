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
import { subscriptionWorkSchema, Topics, type SubscriptionWork } from '@email-core/contracts';
import { KafkaPublisher, KafkaWorker, runConsumer } from '@email-core/kafka';
import { kafkaLog } from '../messaging/kafka-log';
import { KafkaTopics } from '../messaging/kafka-topics';
import { CONSUMER_CONFIG, KAFKA } from '../messaging/messaging.tokens';
import { DeleteSubscriptionCommand } from './commands/delete-subscription/delete-subscription.command';
import { EnsureSubscriptionCommand } from './commands/ensure-subscription/ensure-subscription.command';
import { HandleSubscriptionLifecycleCommand } from './commands/handle-subscription-lifecycle/handle-subscription-lifecycle.command';

export const SUBSCRIPTIONS_GROUP = 'email-core-subscriptions';

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
export class SubscriptionsConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('SubscriptionsConsumer');
  private readonly worker: KafkaWorker;

  constructor(
    @Inject(KAFKA) kafka: Kafka,
    @Inject(CONSUMER_CONFIG) config: ConsumerConfig,
    publisher: KafkaPublisher,
    topics: KafkaTopics,
    commandBus: CommandBus,
  ) {
    this.worker = new KafkaWorker({
      name: 'subscriptions consumer',
      logger: this.logger,
      ready: () => topics.ready(),
      start: () =>
        runConsumer({
          kafka,
          groupId: topics.group(SUBSCRIPTIONS_GROUP),
          topic: topics.name(Topics.subscriptions),
          schema: subscriptionWorkSchema,
          handle: async (work) => {
            await commandBus.execute(subscriptionCommand(work));
          },
          publisher,
          retryTopic: topics.name(Topics.retry),
          deadLetterTopic: topics.name(Topics.deadLetter),
          retry: config.consumers.retry,
          sessionTimeoutMs: config.consumers.sessionTimeoutMs,
          partitionsConsumedConcurrently: PARTITIONS_AT_ONCE,
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
