import { Query } from '@nestjs/cqrs';
import type { UserView } from '../../session-response';

/** `GET /me`: the user, and whether the users table makes them an operator (the dashboard's Ops tab). */
export interface MeView extends UserView {
  /** when the user proved they receive mail at `email`; null until then */
  emailVerifiedAt: string | null;
  operator: boolean;
}

export class GetMeQuery extends Query<MeView> {
  constructor(readonly userId: string) {
    super();
  }
}
