import { Inject, Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { ConsumerConfig } from '@email-core/config';
import { ConsumerGroups, syncRequestedSchema, Topics } from '@email-core/contracts';
import { runConsumer } from '@email-core/kafka';
import { TopicConsumer } from '../messaging/topic-consumer';
import { TopicConsumers } from '../messaging/topic-consumers';
import { CONSUMER_CONFIG } from '../messaging/messaging.tokens';
import { SyncMailboxCommand } from './sync-mailbox/sync-mailbox.command';

/** `sync.requested` from Kafka to the SyncMailbox command; the runner validates, retries and commits. */
@Injectable()
export class SyncRequestsConsumer extends TopicConsumer {
  constructor(
    consumers: TopicConsumers,
    @Inject(CONSUMER_CONFIG) config: ConsumerConfig,
    commandBus: CommandBus,
  ) {
    super(consumers, {
      context: 'SyncRequestsConsumer',
      name: 'sync-requests consumer',
      group: ConsumerGroups.sync,
      topic: Topics.syncRequests,
      start: (shared) =>
        runConsumer({
          ...shared,
          schema: syncRequestedSchema,
          handle: async (request, ctx) => {
            await commandBus.execute(new SyncMailboxCommand(request, ctx.signal));
          },
          partitionsConsumedConcurrently: config.sync.concurrentPartitions,
        }),
    });
  }
}
