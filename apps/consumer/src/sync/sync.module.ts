import { Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import type { ConsumerConfig } from '@email-core/config';
import { CONSUMER_CONFIG } from '../messaging/messaging.tokens';
import { SubscriptionRequests } from './subscription-requests';
import { SyncMailboxHandler } from './sync-mailbox/sync-mailbox.handler';
import { SyncRequestsConsumer } from './sync-requests.consumer';
import { SYNC_SLOTS, SyncSlots } from './sync-slots';

/**
 * Mailbox sync: the `sync.requested` consumer and the SyncMailbox use case, on the mirror core (`mirror`, the one
 * MirrorModule AppModule built) and the account's provider from its registry; `SYNC_CONCURRENT_PARTITIONS` whole
 * mailboxes synced at once by this process.
 */
@Module({})
export class SyncModule {
  static forRoot(mirror: DynamicModule): DynamicModule {
    return {
      module: SyncModule,
      imports: [CqrsModule, mirror],
      providers: [
        SubscriptionRequests,
        SyncMailboxHandler,
        SyncRequestsConsumer,
        {
          provide: SYNC_SLOTS,
          inject: [CONSUMER_CONFIG],
          useFactory: (config: ConsumerConfig) => new SyncSlots(config.sync.concurrentPartitions),
        },
      ],
    };
  }
}
