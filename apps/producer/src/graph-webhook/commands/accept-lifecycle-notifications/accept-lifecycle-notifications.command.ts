import { Command } from '@nestjs/cqrs';
import type { LifecycleItem } from '../../notification-payload';
import type { AcceptNotificationsResult } from '../accept-change-notifications/accept-change-notifications.command';

/**
 * Graph reports something about a subscription itself (`reauthorizationRequired`, `subscriptionRemoved`,
 * `missed`): verify each item and hand the accepted ones to the subscription workers through Kafka.
 */
export class AcceptLifecycleNotificationsCommand extends Command<AcceptNotificationsResult> {
  constructor(
    readonly items: LifecycleItem[],
    /** when the webhook received them (ISO 8601) */
    readonly receivedAt: string,
    /** the sending address (unknown ids are charged to its budget) */
    readonly source: string,
  ) {
    super();
  }
}
