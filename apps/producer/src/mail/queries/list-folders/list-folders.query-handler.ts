import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { MailReadRepository, type FolderView } from '@email-core/database';
import { valueOrNotFound } from '../../mail-errors';
import { MailQueryCache } from '../../mail-query-cache';
import { ListFoldersQuery } from './list-folders.query';

@QueryHandler(ListFoldersQuery)
export class ListFoldersQueryHandler implements IQueryHandler<ListFoldersQuery> {
  constructor(
    private readonly mail: MailReadRepository,
    private readonly cache: MailQueryCache,
  ) {}

  execute({ userId, accountId }: ListFoldersQuery): Promise<{ items: FolderView[] }> {
    return this.cache.getOrLoad(accountId, { kind: 'folders', userId }, async () => ({
      items: valueOrNotFound(await this.mail.listFolders({ userId, accountId })),
    }));
  }
}
