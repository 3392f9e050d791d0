import { Query } from '@nestjs/cqrs';
import type { MessagePageView } from '@email-core/database';
import type { ListMessagesParams } from './list-messages.dto';

/** one page of an account's messages, newest first, filtered and searched */
export class ListMessagesQuery extends Query<MessagePageView> {
  constructor(
    readonly userId: string,
    readonly accountId: string,
    readonly params: ListMessagesParams,
  ) {
    super();
  }
}
