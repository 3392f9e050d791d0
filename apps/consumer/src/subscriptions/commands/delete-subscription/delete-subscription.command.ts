import { Command } from '@nestjs/cqrs';

export type DeleteSubscriptionOutcome =
  /** deleted at Graph now, or Graph no longer had it */
  | 'deleted'
  /** Microsoft would not let us (a dead refresh token, say): the subscription expires on its own */
  | 'abandoned'
  /** no such removal: an earlier delivery finished it */
  | 'done-before';

/** Delete an unlinked account's subscription at Microsoft (`subscription.delete`). */
export class DeleteSubscriptionCommand extends Command<DeleteSubscriptionOutcome> {
  constructor(
    readonly accountId: string,
    readonly removalId: string,
  ) {
    super();
  }
}
