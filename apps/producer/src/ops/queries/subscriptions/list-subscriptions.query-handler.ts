import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { GraphSubscriptionsRepository } from '@email-core/database';
import type { GraphSubscriptionListDto } from './list-subscriptions.dto';
import { ListSubscriptionsQuery } from './list-subscriptions.query';
import { subscriptionState } from './subscription-state';

const MAX_LISTED = 1000;

@QueryHandler(ListSubscriptionsQuery)
export class ListSubscriptionsQueryHandler implements IQueryHandler<
  ListSubscriptionsQuery,
  GraphSubscriptionListDto
> {
  constructor(private readonly subscriptions: GraphSubscriptionsRepository) {}

  async execute(): Promise<GraphSubscriptionListDto> {
    const now = new Date();
    const { total, items } = await this.subscriptions.listWithMailboxes(MAX_LISTED);
    return {
      now: now.toISOString(),
      total,
      items: items.map((s) => ({
        accountId: s.accountId,
        mailboxEmail: s.mailboxEmail,
        subscriptionId: s.subscriptionId,
        resource: s.resource,
        expiresAt: s.expiresAt.toISOString(),
        createdAt: s.createdAt.toISOString(),
        renewedAt: s.renewedAt?.toISOString() ?? null,
        state: subscriptionState(s.expiresAt, now),
      })),
    };
  }
}
