import { Query } from '@nestjs/cqrs';
import type { ChangesSince } from '@email-core/database';

/** An account's live changes after `since` (its change sequence), for a dashboard catching up. */
export class ListChangesQuery extends Query<ChangesSince> {
  constructor(
    readonly userId: string,
    readonly accountId: string,
    readonly since: number,
    readonly limit: number,
  ) {
    super();
  }
}
