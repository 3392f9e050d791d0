import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { MailAccountsRepository, type MailAccountSummary } from '@email-core/database';
import { ListAccountsQuery } from './list-accounts.query';

@QueryHandler(ListAccountsQuery)
export class ListAccountsQueryHandler implements IQueryHandler<ListAccountsQuery> {
  constructor(private readonly accounts: MailAccountsRepository) {}

  execute({ userId }: ListAccountsQuery): Promise<MailAccountSummary[]> {
    return this.accounts.listForUser(userId);
  }
}
