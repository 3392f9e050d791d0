import { Injectable } from '@nestjs/common';
import { domainEventSchema, Topics, type DomainEvent } from '@email-core/contracts';
import { KafkaPublisher } from '@email-core/kafka';
import { KafkaTopics } from './kafka-topics';

/**
 * Domain events (`sync.progress`, `sync.completed`, `account.status`) to the events topic, keyed by account; parts
 * of this process may also listen to the ones it published (the IMAP watcher takes an account whose first sync
 * ended here at once, rather than at its next periodic read of the accounts).
 */
@Injectable()
export class DomainEventsPublisher {
  private readonly listeners = new Set<(event: DomainEvent) => void>();

  constructor(
    private readonly publisher: KafkaPublisher,
    private readonly topics: KafkaTopics,
  ) {}

  /** Validated against its contract before it is sent; call it only after the state it announces committed. */
  async publish(event: DomainEvent): Promise<void> {
    await this.publisher.publish(this.topics.name(Topics.events), event.accountId, event, {
      schema: domainEventSchema,
    });
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // a listener's failure is its own: the event is published
      }
    }
  }

  /** `listener` hears every event this process publishes from now on; answers how to stop. */
  onPublished(listener: (event: DomainEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
