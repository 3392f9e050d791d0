import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { UsersRepository } from '@email-core/database';
import { AuthErrors } from '../../auth.errors';
import { toUserView, type UserView } from '../../session-response';
import { GetMeQuery } from './get-me.query';

@QueryHandler(GetMeQuery)
export class GetMeQueryHandler implements IQueryHandler<GetMeQuery, UserView> {
  constructor(private readonly users: UsersRepository) {}

  async execute({ userId }: GetMeQuery): Promise<UserView> {
    const user = await this.users.findById(userId);
    // a valid access token of a deleted user
    if (!user) throw AuthErrors.userGone();
    return toUserView(user);
  }
}
