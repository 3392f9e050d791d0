import { Injectable } from '@nestjs/common';
import { domainEventSchema, Topics, type DomainEvent } from '@email-core/contracts';
import { KafkaPublisher } from '@email-core/kafka';
import { KafkaTopics } from './kafka-topics';

/** Domain events (`sync.progress`, `sync.completed`, `account.status`) to the events topic, keyed by account. */
@Injectable()
export class DomainEventsPublisher {
  constructor(
    private readonly publisher: KafkaPublisher,
    private readonly topics: KafkaTopics,
  ) {}

  /** Validated against its contract before it is sent; call it only after the state it announces committed. */
  async publish(event: DomainEvent): Promise<void> {
    await this.publisher.publish(this.topics.name(Topics.events), event.accountId, event, {
      schema: domainEventSchema,
    });
  }
}
