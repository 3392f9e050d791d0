import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { MailReadRepository, type MessagePageView } from '@email-core/database';
import { valueOrNotFound } from '../../mail-errors';
import { MailQueryCache } from '../../mail-query-cache';
import { ListMessagesQuery } from './list-messages.query';

@QueryHandler(ListMessagesQuery)
export class ListMessagesQueryHandler implements IQueryHandler<ListMessagesQuery> {
  constructor(
    private readonly mail: MailReadRepository,
    private readonly cache: MailQueryCache,
  ) {}

  execute({ userId, accountId, params }: ListMessagesQuery): Promise<MessagePageView> {
    const { filter, limit, cursor } = params;
    return this.cache.getOrLoad(accountId, { kind: 'messages', userId, filter, limit, cursor }, async () =>
      valueOrNotFound(
        await this.mail.findMessagePage({ userId, accountId }, { filter, limit, after: cursor }),
      ),
    );
  }
}
