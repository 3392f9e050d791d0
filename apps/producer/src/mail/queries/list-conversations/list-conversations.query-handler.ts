import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { type ConversationPageView } from '@email-core/database';
import { valueOrNotFound } from '../../mail-errors';
import { MailQueryCache } from '../../mail-query-cache';
import { MailReads } from '../../mail-reads';
import { ListConversationsQuery } from './list-conversations.query';

@QueryHandler(ListConversationsQuery)
export class ListConversationsQueryHandler implements IQueryHandler<ListConversationsQuery> {
  constructor(
    private readonly mail: MailReads,
    private readonly cache: MailQueryCache,
  ) {}

  execute({ userId, accountId, params }: ListConversationsQuery): Promise<ConversationPageView> {
    const { folderId, limit, cursor } = params;
    return this.cache.getOrLoad(
      accountId,
      { kind: 'conversations', userId, folderId, limit, cursor },
      async (wal) =>
        valueOrNotFound(
          await this.mail.run(wal, (mail) =>
            mail.findConversationPage({ userId, accountId }, { folderId, limit, after: cursor }),
          ),
        ),
    );
  }
}
