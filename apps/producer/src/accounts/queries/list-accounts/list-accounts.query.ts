import { Query } from '@nestjs/cqrs';
import type { MailAccountSummary } from '@email-core/database';

/** The signed-in user's linked accounts. */
export class ListAccountsQuery extends Query<MailAccountSummary[]> {
  constructor(readonly userId: string) {
    super();
  }
}
