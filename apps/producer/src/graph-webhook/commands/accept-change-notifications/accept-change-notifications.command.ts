import { Command } from '@nestjs/cqrs';
import type { ChangeItem } from '../../notification-payload';

export interface AcceptNotificationsResult {
  /** items published to Kafka */
  accepted: number;
  /** items dropped: unknown subscription or clientState mismatch */
  dropped: number;
}

/** Graph reports changes to mailboxes we subscribed to: verify each item and hand the accepted ones to Kafka. */
export class AcceptChangeNotificationsCommand extends Command<AcceptNotificationsResult> {
  constructor(
    readonly items: ChangeItem[],
    /** when the webhook received them (ISO 8601) */
    readonly receivedAt: string,
    /** the sending address (unknown ids are charged to its budget) */
    readonly source: string,
  ) {
    super();
  }
}
