import { Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { subscriptionDeleteSchema, Topics, type SubscriptionDelete } from '@email-core/contracts';
import { GraphSubscriptionsRepository, MailAccountsRepository, OutboxRepository } from '@email-core/database';
import { ProviderRegistry } from '@email-core/providers';
import { AccountErrors } from '../../account-errors';
import { SyncRequestOutbox } from '../../sync-request-outbox';
import { UnlinkAccountCommand } from './unlink-account.command';
import { AccountWrites } from '../../account-writes';

/**
 * Deletes the account; its folders, messages and bodies go with it (ON DELETE CASCADE), and so do its tokens
 * and its `graph_subscriptions` row. Another user's account answers exactly like an unknown one.
 *
 * Its Graph subscription must still be deleted at Microsoft, which takes an access token the account row no
 * longer holds: in the same transaction, before the row goes, the subscription's id and the account's sealed
 * tokens move to `subscription_removals` and a `subscription.delete` outbox message names that row, so the
 * unlink and the removal commit together. A consumer deletes the subscription and then the row.
 *
 * The transaction locks the account row before anything else, so a subscription created concurrently is
 * either in the removal bookkeeping or refused when it is recorded (and deleted by its creator), never
 * cascade-deleted unseen while it lives on at Microsoft.
 */
@CommandHandler(UnlinkAccountCommand)
export class UnlinkAccountHandler implements ICommandHandler<UnlinkAccountCommand> {
  private readonly logger = new Logger('UnlinkAccount');
  private readonly subscriptions: GraphSubscriptionsRepository;

  constructor(
    private readonly accounts: MailAccountsRepository,
    /** the account's provider adapter forgets what this process holds of its credentials */
    private readonly providers: ProviderRegistry,
    private readonly dataSource: DataSource,
    private readonly outbox: OutboxRepository,
    /** the accounts feature's handle on the outbox relay: `committed()` wakes it */
    private readonly relay: SyncRequestOutbox,
    private readonly writes: AccountWrites,
  ) {
    this.subscriptions = new GraphSubscriptionsRepository(dataSource);
  }

  async execute({ userId, accountId }: UnlinkAccountCommand): Promise<void> {
    const account = await this.accounts.findForUser(userId, accountId);
    if (!account) throw AccountErrors.accountNotFound();
    const removalId = await this.dataSource.transaction(async (manager) => {
      // The account row first, FOR UPDATE: a subscription being recorded meanwhile either committed before
      // (and the bookkeeping below sees it) or waits and then finds the account gone (and deletes its own).
      if (!(await this.accounts.lockForUnlink(manager, userId, accountId))) {
        throw AccountErrors.accountNotFound(); // removed meanwhile (a concurrent unlink)
      }
      const removal = await this.subscriptions.addRemoval(manager, accountId);
      if (!(await this.accounts.deleteForUser(userId, accountId, manager))) {
        throw AccountErrors.accountNotFound();
      }
      if (removal) {
        const message = subscriptionDeleteSchema.parse({
          type: 'subscription.delete',
          v: 1,
          accountId,
          removalId: removal,
          requestedAt: new Date().toISOString(),
        } satisfies SubscriptionDelete);
        await this.outbox.append(manager, [
          { topic: Topics.subscriptions, key: accountId, type: message.type, payload: message },
        ]);
      }
      return removal;
    });
    if (removalId) this.relay.committed();
    await this.writes.committed(accountId);
    this.providers.adapter(account.provider).vault.forget(accountId);
    this.logger.log(
      `user ${userId} unlinked mail account ${accountId}${removalId ? '; its subscription is being deleted' : ''}`,
    );
  }
}
