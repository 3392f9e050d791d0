import { Injectable } from '@nestjs/common';
import { everyFolderPoke, mailboxPokeSchema, Topics } from '@email-core/contracts';
import { KafkaPublisher } from '@email-core/kafka';
import { KafkaTopics } from '../messaging/kafka-topics';

/**
 * Asks the mirror core for a catch-up round of a mailbox whose notifications may have been lost: after a new
 * subscription (changes between the last delta and the subscription made none) and after Graph's `missed`. A
 * `mailbox.poke` with `everyFolder` (source 'lifecycle'), keyed by account, on the pokes topic: the pokes consumer
 * runs it like a reconciliation round, under the mailbox lock, every folder from its stored cursor, and an
 * unchanged mailbox costs an empty page per folder and writes nothing. Not a resync on the sync topic: that one
 * also recounts every folder, marks the account synced again, bumps its cache version and announces
 * `sync.completed`, and at linking time it doubled the sync topic's queue (each new account's first sync followed
 * by a second one behind every other account's first). Published directly rather than through an outbox:
 * subscription work is at-least-once (a crash before the commit redelivers it and publishes again) and a round is
 * idempotent, so a duplicate costs one empty round.
 */
@Injectable()
export class CatchUpRequests {
  constructor(
    private readonly publisher: KafkaPublisher,
    private readonly topics: KafkaTopics,
  ) {}

  async request(accountId: string): Promise<void> {
    const message = everyFolderPoke(accountId, 'lifecycle', new Date().toISOString());
    await this.publisher.publish(this.topics.name(Topics.mailboxPokes), accountId, message, {
      schema: mailboxPokeSchema,
    });
  }
}
