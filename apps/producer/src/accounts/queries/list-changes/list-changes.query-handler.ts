import { GoneException } from '@nestjs/common';
import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { MailAccountsRepository, MailChangesRepository, type ChangesSince } from '@email-core/database';
import { AccountErrors } from '../../account-errors';
import { ListChangesQuery } from './list-changes.query';

const changesExpired = () =>
  new GoneException({
    error: 'CHANGES_EXPIRED',
    message: 'the change log no longer reaches back to `since`; reload the account instead of catching up',
  });

/**
 * Catch-up for a reconnecting dashboard. Reads the primary (not a replica): a client asks for what follows the
 * last event it got, and that event was only sent after its changes committed there.
 */
@QueryHandler(ListChangesQuery)
export class ListChangesQueryHandler implements IQueryHandler<ListChangesQuery> {
  constructor(
    private readonly accounts: MailAccountsRepository,
    private readonly changes: MailChangesRepository,
  ) {}

  async execute({ userId, accountId, since, limit }: ListChangesQuery): Promise<ChangesSince> {
    const account = await this.accounts.findForUser(userId, accountId);
    if (!account) throw AccountErrors.accountNotFound();
    const page = await this.changes.since(account.id, since, limit);
    // pruned past `since`; or `since` is ahead of the account: state this server never produced
    if (page === null || since > page.latestSeq) throw changesExpired();
    return page;
  }
}
