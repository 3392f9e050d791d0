import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { type MessageDetailView } from '@email-core/database';
import { valueOrNotFound } from '../../mail-errors';
import { MailQueryCache } from '../../mail-query-cache';
import { MailReads } from '../../mail-reads';
import { GetMessageQuery } from './get-message.query';

@QueryHandler(GetMessageQuery)
export class GetMessageQueryHandler implements IQueryHandler<GetMessageQuery> {
  constructor(
    private readonly mail: MailReads,
    private readonly cache: MailQueryCache,
  ) {}

  execute({ userId, accountId, messageId }: GetMessageQuery): Promise<MessageDetailView> {
    return this.cache.getOrLoad(accountId, { kind: 'message', userId, messageId }, async (wal) =>
      valueOrNotFound(await this.mail.run(wal, (mail) => mail.findMessage({ userId, accountId }, messageId))),
    );
  }
}
