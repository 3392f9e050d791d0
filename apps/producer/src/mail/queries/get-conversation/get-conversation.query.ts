import { Query } from '@nestjs/cqrs';
import type { ConversationView } from '@email-core/database';

/** a whole conversation of an account, oldest first */
export class GetConversationQuery extends Query<ConversationView> {
  constructor(
    readonly userId: string,
    readonly accountId: string,
    readonly conversationId: string,
  ) {
    super();
  }
}
