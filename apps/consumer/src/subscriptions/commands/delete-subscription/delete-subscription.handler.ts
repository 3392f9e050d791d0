import { Inject, Logger, Optional } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { GraphSubscriptionsRepository } from '@email-core/database';
import { CredentialsNotFoundError, ProviderRefusedError, ReauthRequiredError } from '@email-core/providers';
import { SUBSCRIPTION_WRITE_PACER, type SubscriptionWritePacer } from '../../subscription-write-budget';
import { MAILBOX_WATCHES, type MailboxWatches } from '../../watches';
import { DeleteSubscriptionCommand, type DeleteSubscriptionOutcome } from './delete-subscription.command';

/**
 * Unlinking kept the subscription's id and the account's sealed tokens in `subscription_removals`; this
 * deletes the subscription at Microsoft with them and then drops the row (and the tokens with it). Transient
 * failures are thrown, so the message is retried; a refusal that retrying cannot fix (a dead refresh token, a
 * 4xx) gives up, as the subscription expires on its own and its notifications are ignored meanwhile.
 */
@CommandHandler(DeleteSubscriptionCommand)
export class DeleteSubscriptionHandler implements ICommandHandler<
  DeleteSubscriptionCommand,
  DeleteSubscriptionOutcome
> {
  private readonly logger = new Logger('DeleteSubscription');

  constructor(
    private readonly subscriptions: GraphSubscriptionsRepository,
    @Inject(MAILBOX_WATCHES) private readonly graph: MailboxWatches,
    /** a DELETE counts against Graph's subscription write limit like a create or a renewal */
    @Optional()
    @Inject(SUBSCRIPTION_WRITE_PACER)
    private readonly pacer: SubscriptionWritePacer = { take: () => Promise.resolve() },
  ) {}

  async execute({ accountId, removalId }: DeleteSubscriptionCommand): Promise<DeleteSubscriptionOutcome> {
    const removal = await this.subscriptions.findRemoval(removalId);
    if (!removal) return 'done-before';
    let outcome: DeleteSubscriptionOutcome = 'deleted';
    try {
      await this.pacer.take();
      const existed = await this.graph.forRemoval(removal).close(removal.subscriptionId);
      this.logger.log(
        `unlinked account ${accountId}: subscription ${removal.subscriptionId} ${existed ? 'deleted' : 'was already gone'}`,
      );
    } catch (err) {
      if (
        !(err instanceof ReauthRequiredError) &&
        !(err instanceof CredentialsNotFoundError) &&
        !(err instanceof ProviderRefusedError)
      ) {
        throw err;
      }
      outcome = 'abandoned';
      this.logger.warn(
        `unlinked account ${accountId}: subscription ${removal.subscriptionId} not deleted (${err.message}); it expires on its own`,
      );
    }
    await this.subscriptions.removalDone(removal.id);
    return outcome;
  }
}
