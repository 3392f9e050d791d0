import { Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { SubscriptionRequests } from './subscription-requests';
import { SyncMailboxHandler } from './sync-mailbox/sync-mailbox.handler';
import { SyncRequestsConsumer } from './sync-requests.consumer';

/**
 * Mailbox sync: the `sync.requested` consumer and the SyncMailbox use case, on the mirror core (`mirror`, the one
 * MirrorModule AppModule built) and the account's provider from its registry.
 */
@Module({})
export class SyncModule {
  static forRoot(mirror: DynamicModule): DynamicModule {
    return {
      module: SyncModule,
      imports: [CqrsModule, mirror],
      providers: [SubscriptionRequests, SyncMailboxHandler, SyncRequestsConsumer],
    };
  }
}
