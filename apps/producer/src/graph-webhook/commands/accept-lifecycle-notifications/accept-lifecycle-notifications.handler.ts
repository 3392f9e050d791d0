import { Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import type { SubscriptionLifecycle } from '@email-core/contracts';
import { SubscriptionRoutes } from '../../subscription-routes';
import { UnknownIdBudget } from '../../unknown-id-budget';
import { verifyItems } from '../../verify-items';
import { WebhookDropLog } from '../../webhook-drop-log';
import { WebhookErrors } from '../../webhook-errors';
import { WebhookPublisher } from '../../webhook-publisher';
import type { AcceptNotificationsResult } from '../accept-change-notifications/accept-change-notifications.command';
import { AcceptLifecycleNotificationsCommand } from './accept-lifecycle-notifications.command';

/**
 * Each accepted lifecycle item becomes a `subscription.lifecycle` message on `Topics.subscriptions`, keyed by
 * account id (the same event twice in one POST is sent once). Resolves only after Kafka acknowledged them.
 */
@CommandHandler(AcceptLifecycleNotificationsCommand)
export class AcceptLifecycleNotificationsHandler implements ICommandHandler<AcceptLifecycleNotificationsCommand> {
  private readonly logger = new Logger('GraphWebhook');

  constructor(
    private readonly routes: SubscriptionRoutes,
    private readonly budget: UnknownIdBudget,
    private readonly publisher: WebhookPublisher,
    private readonly drops: WebhookDropLog,
  ) {}

  async execute({
    items,
    receivedAt,
    source,
  }: AcceptLifecycleNotificationsCommand): Promise<AcceptNotificationsResult> {
    const { accepted, dropped } = await verifyItems(
      { routes: this.routes, budget: this.budget, drops: this.drops },
      items,
      source,
    );
    const messages = new Map<string, SubscriptionLifecycle>();
    for (const { item, accountId } of accepted) {
      messages.set(`${item.subscriptionId} ${item.lifecycleEvent}`, {
        type: 'subscription.lifecycle',
        v: 1,
        accountId,
        subscriptionId: item.subscriptionId,
        lifecycleEvent: item.lifecycleEvent,
        receivedAt,
      });
    }
    if (messages.size > 0) {
      try {
        await this.publisher.publishLifecycle([...messages.values()]);
      } catch (err) {
        throw WebhookErrors.unavailable(err);
      }
      const byEvent = new Map<string, number>();
      for (const m of messages.values())
        byEvent.set(m.lifecycleEvent, (byEvent.get(m.lifecycleEvent) ?? 0) + 1);
      this.logger.log(
        `webhook accepted ${accepted.length} lifecycle notification(s): ` +
          [...byEvent].map(([event, n]) => `${n} ${event}`).join(', '),
      );
    }
    return { accepted: accepted.length, dropped };
  }
}
