import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { type MessagePageView } from '@email-core/database';
import { valueOrNotFound } from '../../mail-errors';
import { MailQueryCache } from '../../mail-query-cache';
import { MailReads } from '../../mail-reads';
import { ListMessagesQuery } from './list-messages.query';

@QueryHandler(ListMessagesQuery)
export class ListMessagesQueryHandler implements IQueryHandler<ListMessagesQuery> {
  constructor(
    private readonly mail: MailReads,
    private readonly cache: MailQueryCache,
  ) {}

  execute({ userId, accountId, params }: ListMessagesQuery): Promise<MessagePageView> {
    const { filter, limit, cursor } = params;
    return this.cache.getOrLoad(accountId, { kind: 'messages', userId, filter, limit, cursor }, async (wal) =>
      valueOrNotFound(
        await this.mail.run(wal, (mail) =>
          mail.findMessagePage({ userId, accountId }, { filter, limit, after: cursor }),
        ),
      ),
    );
  }
}
