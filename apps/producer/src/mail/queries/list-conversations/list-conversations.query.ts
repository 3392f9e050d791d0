import { Query } from '@nestjs/cqrs';
import type { ConversationPageView } from '@email-core/database';
import type { ListConversationsParams } from './list-conversations.dto';

/** one page of a folder's conversations, newest first */
export class ListConversationsQuery extends Query<ConversationPageView> {
  constructor(
    readonly userId: string,
    readonly accountId: string,
    readonly params: ListConversationsParams,
  ) {
    super();
  }
}
