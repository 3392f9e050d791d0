import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { type ConversationView } from '@email-core/database';
import { valueOrNotFound } from '../../mail-errors';
import { MailQueryCache } from '../../mail-query-cache';
import { MailReads } from '../../mail-reads';
import { GetConversationQuery } from './get-conversation.query';

@QueryHandler(GetConversationQuery)
export class GetConversationQueryHandler implements IQueryHandler<GetConversationQuery> {
  constructor(
    private readonly mail: MailReads,
    private readonly cache: MailQueryCache,
  ) {}

  execute({ userId, accountId, conversationId }: GetConversationQuery): Promise<ConversationView> {
    return this.cache.getOrLoad(accountId, { kind: 'conversation', userId, conversationId }, async (wal) =>
      valueOrNotFound(
        await this.mail.run(wal, (mail) => mail.findConversation({ userId, accountId }, conversationId)),
      ),
    );
  }
}
