import { Query } from '@nestjs/cqrs';
import type { FolderView } from '@email-core/database';

/** an account's folders, with total and unread counts */
export class ListFoldersQuery extends Query<{ items: FolderView[] }> {
  constructor(
    readonly userId: string,
    readonly accountId: string,
  ) {
    super();
  }
}
