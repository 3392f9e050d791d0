import { Injectable } from '@nestjs/common';
import { syncRequestedSchema, Topics, type SyncRequested } from '@email-core/contracts';
import { KafkaPublisher } from '@email-core/kafka';
import { KafkaTopics } from '../messaging/kafka-topics';

/**
 * Asks the sync workers to run a mailbox's delta again (`sync.requested`, keyed by account). Published
 * directly rather than through an outbox: subscription work is at-least-once (a crash before the commit
 * redelivers it and publishes again) and a sync is idempotent, so a duplicate costs one delta round.
 */
@Injectable()
export class ResyncRequests {
  constructor(
    private readonly publisher: KafkaPublisher,
    private readonly topics: KafkaTopics,
  ) {}

  async request(accountId: string, reason: SyncRequested['reason']): Promise<void> {
    const message: SyncRequested = {
      type: 'sync.requested',
      v: 1,
      accountId,
      reason,
      requestedAt: new Date().toISOString(),
    };
    await this.publisher.publish(this.topics.name(Topics.syncRequests), accountId, message, {
      schema: syncRequestedSchema,
    });
  }
}
