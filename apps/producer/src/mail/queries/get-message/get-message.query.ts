import { Query } from '@nestjs/cqrs';
import type { MessageDetailView } from '@email-core/database';

/** one message of an account, with its full body */
export class GetMessageQuery extends Query<MessageDetailView> {
  constructor(
    readonly userId: string,
    readonly accountId: string,
    readonly messageId: string,
  ) {
    super();
  }
}
