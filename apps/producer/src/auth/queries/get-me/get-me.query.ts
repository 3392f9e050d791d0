import { Query } from '@nestjs/cqrs';
import type { UserView } from '../../session-response';

export class GetMeQuery extends Query<UserView> {
  constructor(readonly userId: string) {
    super();
  }
}
