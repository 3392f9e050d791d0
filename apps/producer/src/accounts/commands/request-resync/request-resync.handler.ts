import { ConflictException } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { MailAccountsRepository } from '@email-core/database';
import { AccountErrors } from '../../account-errors';
import { SyncRequestOutbox } from '../../sync-request-outbox';
import { RequestResyncCommand, type RequestResyncResult } from './request-resync.command';

/** Writes a `sync.requested` (reason `manual`) to the outbox; the workers do the rest. */
@CommandHandler(RequestResyncCommand)
export class RequestResyncHandler implements ICommandHandler<RequestResyncCommand> {
  constructor(
    private readonly accounts: MailAccountsRepository,
    private readonly syncRequests: SyncRequestOutbox,
    private readonly dataSource: DataSource,
  ) {}

  async execute({ userId, accountId }: RequestResyncCommand): Promise<RequestResyncResult> {
    const account = await this.accounts.findForUser(userId, accountId);
    if (!account) throw AccountErrors.accountNotFound();
    if (account.status === 'reauth_required') {
      // A sync cannot run on a revoked grant; linking the mailbox again is what fixes it (and resyncs).
      throw new ConflictException({
        error: 'REAUTH_REQUIRED',
        message: 'Microsoft no longer accepts the sign-in of this account; link the mailbox again',
      });
    }
    const message = await this.syncRequests.add(this.dataSource.manager, account.id, 'manual');
    this.syncRequests.committed();
    return { accountId: account.id, requestedAt: message.requestedAt };
  }
}
