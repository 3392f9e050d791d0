import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { MailReadRepository, type MessageDetailView } from '@email-core/database';
import { valueOrNotFound } from '../../mail-errors';
import { MailQueryCache } from '../../mail-query-cache';
import { GetMessageQuery } from './get-message.query';

@QueryHandler(GetMessageQuery)
export class GetMessageQueryHandler implements IQueryHandler<GetMessageQuery> {
  constructor(
    private readonly mail: MailReadRepository,
    private readonly cache: MailQueryCache,
  ) {}

  execute({ userId, accountId, messageId }: GetMessageQuery): Promise<MessageDetailView> {
    return this.cache.getOrLoad(accountId, { kind: 'message', userId, messageId }, async () =>
      valueOrNotFound(await this.mail.findMessage({ userId, accountId }, messageId)),
    );
  }
}
