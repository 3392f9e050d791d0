import { Query } from '@nestjs/cqrs';
import type { GraphSubscriptionListDto } from './list-subscriptions.dto';

/** Every stored Graph subscription with its mailbox and a state derived from its expiry. */
export class ListSubscriptionsQuery extends Query<GraphSubscriptionListDto> {}
