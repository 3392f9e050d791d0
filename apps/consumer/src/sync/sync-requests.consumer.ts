import { Inject, Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { ConsumerConfig } from '@email-core/config';
import { ConsumerGroups, syncRequestedSchema, Topics } from '@email-core/contracts';
import { runBatchConsumer } from '@email-core/kafka';
import { TopicConsumer } from '../messaging/topic-consumer';
import { TopicConsumers } from '../messaging/topic-consumers';
import { CONSUMER_CONFIG } from '../messaging/messaging.tokens';
import { SyncMailboxCommand } from './sync-mailbox/sync-mailbox.command';

/**
 * Accounts whose sync requests one process takes in at once. Each shows its first screen at once and then waits
 * for a sync slot (`SyncSlots`, `SYNC_CONCURRENT_PARTITIONS` of them): a mailbox never waits behind the whole syncs
 * of the mailboxes before it on its partition to show its newest mail.
 */
export const SYNC_REQUESTS_IN_FLIGHT = 200;

/**
 * `sync.requested` from Kafka to the SyncMailbox command, without head-of-line blocking: every request is taken as
 * it arrives, whatever else runs on its partition; an account's requests that arrive together are one sync (it
 * resumes from the stored cursors, so one covers them all). The runner validates, retries and commits each
 * partition up to its first request not done.
 */
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
        runBatchConsumer({
          ...shared,
          schema: syncRequestedSchema,
          groupOf: (request) => request.accountId,
          handleGroup: async (_accountId, requests, ctx) => {
            await commandBus.execute(new SyncMailboxCommand(requests[requests.length - 1].value, ctx.signal));
          },
          groupsConcurrently: SYNC_REQUESTS_IN_FLIGHT,
          partitionsConsumedConcurrently: config.sync.concurrentPartitions,
          // an idle fetch's wait (a stop waits for it); requests are taken as they come in any case
          maxWaitTimeInMs: 1000,
        }),
    });
  }
}
