import { Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { MailAccountsRepository } from '@email-core/database';
import { TokenVault } from '@email-core/graph';
import { AccountErrors } from '../../account-errors';
import { UnlinkAccountCommand } from './unlink-account.command';

/**
 * Deletes the account; its folders, messages and bodies go with it (ON DELETE CASCADE), and so do its tokens,
 * which live on the account row. Another user's account answers exactly like an unknown one.
 *
 * The account's Graph subscription (issue 5) is removed from this transaction too: the subscription manager
 * hooks in here, before the row goes, by writing its outbox message with what the worker needs to delete the
 * subscription at Microsoft (its id, and a way to an access token that survives the row) in this same
 * transaction, so unlinking and the subscription's removal commit together.
 */
@CommandHandler(UnlinkAccountCommand)
export class UnlinkAccountHandler implements ICommandHandler<UnlinkAccountCommand> {
  private readonly logger = new Logger('UnlinkAccount');

  constructor(
    private readonly accounts: MailAccountsRepository,
    private readonly vault: TokenVault,
    private readonly dataSource: DataSource,
  ) {}

  async execute({ userId, accountId }: UnlinkAccountCommand): Promise<void> {
    const deleted = await this.dataSource.transaction((manager) =>
      this.accounts.deleteForUser(userId, accountId, manager),
    );
    if (!deleted) throw AccountErrors.accountNotFound();
    this.vault.forget(accountId);
    this.logger.log(`user ${userId} unlinked mail account ${accountId}`);
  }
}
