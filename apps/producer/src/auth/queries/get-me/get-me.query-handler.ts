import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { UsersRepository } from '@email-core/database';
import { AuthErrors } from '../../auth.errors';
import { OperatorRights } from '../../operator-rights';
import { toUserView } from '../../session-response';
import { GetMeQuery, type MeView } from './get-me.query';

@QueryHandler(GetMeQuery)
export class GetMeQueryHandler implements IQueryHandler<GetMeQuery, MeView> {
  constructor(
    private readonly users: UsersRepository,
    private readonly rights: OperatorRights,
  ) {}

  async execute({ userId }: GetMeQuery): Promise<MeView> {
    const user = await this.users.findById(userId);
    // a valid access token of a deleted user
    if (!user) throw AuthErrors.userGone();
    // the same rule, from the same row, as the Ops API's guard: never the token's email claim
    const authority = await this.users.findAuthority(userId);
    if (!authority) throw AuthErrors.userGone();
    return {
      ...toUserView(user),
      emailVerifiedAt: authority.emailVerifiedAt?.toISOString() ?? null,
      operator: this.rights.decide(authority),
    };
  }
}
