import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { ConsumerConfig } from '@email-core/config';
import { ConsumerGroups, syncRequestedSchema, Topics } from '@email-core/contracts';
import { runConsumer, type KafkaWorker } from '@email-core/kafka';
import { TopicConsumers } from '../messaging/topic-consumers';
import { CONSUMER_CONFIG } from '../messaging/messaging.tokens';
import { SyncMailboxCommand } from './sync-mailbox/sync-mailbox.command';

/** `sync.requested` from Kafka to the SyncMailbox command; the runner validates, retries and commits. */
@Injectable()
export class SyncRequestsConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('SyncRequestsConsumer');
  private readonly worker: KafkaWorker;

  constructor(
    consumers: TopicConsumers,
    @Inject(CONSUMER_CONFIG) config: ConsumerConfig,
    commandBus: CommandBus,
  ) {
    this.worker = consumers.worker({
      name: 'sync-requests consumer',
      logger: this.logger,
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

  onApplicationBootstrap(): void {
    this.worker.begin();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.worker.stop();
  }
}
