import { ApiProperty } from '@nestjs/swagger';
import { SUBSCRIPTION_STATES, type SubscriptionState } from './subscription-state';

export class GraphSubscriptionDto {
  @ApiProperty({ format: 'uuid' })
  accountId!: string;

  @ApiProperty({ description: 'the linked mailbox' })
  mailboxEmail!: string;

  @ApiProperty({ description: 'Graph’s subscription id' })
  subscriptionId!: string;

  @ApiProperty({ example: "me/mailFolders('inbox')/messages" })
  resource!: string;

  @ApiProperty({ format: 'date-time' })
  expiresAt!: string;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ type: String, nullable: true, format: 'date-time', description: 'last renewal, if any' })
  renewedAt!: string | null;

  @ApiProperty({
    enum: SUBSCRIPTION_STATES,
    description: '`expiring_soon`: under an hour left (the renewal, due hours earlier, is late)',
  })
  state!: SubscriptionState;
}

export class GraphSubscriptionListDto {
  @ApiProperty({ format: 'date-time', description: 'the time the states were derived at' })
  now!: string;

  @ApiProperty({ description: 'subscriptions stored in all (the list holds at most 1,000)' })
  total!: number;

  @ApiProperty({ type: () => [GraphSubscriptionDto], description: 'soonest expiry first' })
  items!: GraphSubscriptionDto[];
}
