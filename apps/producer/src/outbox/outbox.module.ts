import { Module } from '@nestjs/common';
import { OutboxRelayService } from './outbox-relay.service';
import { OutboxSignal } from './outbox-signal';

/**
 * The producer's outbox relay. Use cases append rows with OutboxRepository inside their transaction and call
 * OutboxSignal.notify() after the commit; the relay publishes them to Kafka.
 */
@Module({
  providers: [OutboxSignal, OutboxRelayService],
  exports: [OutboxSignal],
})
export class OutboxModule {}
