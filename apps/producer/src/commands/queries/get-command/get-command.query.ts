import { Query } from '@nestjs/cqrs';
import type { MailCommandView } from '@email-core/database';

/** One of the user's commands, with its current status. */
export class GetCommandQuery extends Query<MailCommandView> {
  constructor(
    readonly userId: string,
    readonly commandId: string,
  ) {
    super();
  }
}
