import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { type FolderView } from '@email-core/database';
import { valueOrNotFound } from '../../mail-errors';
import { MailQueryCache } from '../../mail-query-cache';
import { MailReads } from '../../mail-reads';
import { ListFoldersQuery } from './list-folders.query';

@QueryHandler(ListFoldersQuery)
export class ListFoldersQueryHandler implements IQueryHandler<ListFoldersQuery> {
  constructor(
    private readonly mail: MailReads,
    private readonly cache: MailQueryCache,
  ) {}

  execute({ userId, accountId }: ListFoldersQuery): Promise<{ items: FolderView[] }> {
    return this.cache.getOrLoad(accountId, { kind: 'folders', userId }, async (wal) => ({
      items: valueOrNotFound(await this.mail.run(wal, (mail) => mail.listFolders({ userId, accountId }))),
    }));
  }
}
