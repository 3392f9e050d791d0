import { Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { RefreshSessionsRepository, UsersRepository } from '@email-core/database';
import { AuthErrors } from '../../auth.errors';
import { SessionIssuer, type IssuedSession } from '../../session/session-issuer';
import { hashRefreshToken, isWellFormedRefreshToken } from '../../tokens/refresh-token';
import { RefreshSessionCommand } from './refresh-session.command';

/**
 * Rotation with reuse detection: each refresh token works once. Presenting one that was already rotated means
 * two parties hold it (a thief and the user); the repository revokes the whole family, so both must sign in again.
 */
@CommandHandler(RefreshSessionCommand)
export class RefreshSessionHandler implements ICommandHandler<RefreshSessionCommand, IssuedSession> {
  private readonly logger = new Logger('RefreshSession');

  constructor(
    private readonly sessions: RefreshSessionsRepository,
    private readonly users: UsersRepository,
    private readonly issuer: SessionIssuer,
  ) {}

  async execute({ refreshToken }: RefreshSessionCommand): Promise<IssuedSession> {
    if (!isWellFormedRefreshToken(refreshToken)) throw AuthErrors.refreshInvalid('no valid refresh token');
    const next = this.issuer.newRefreshToken();
    const result = await this.sessions.rotate(hashRefreshToken(refreshToken), next);
    switch (result.status) {
      case 'unknown':
        throw AuthErrors.refreshInvalid('the refresh token is not recognised');
      case 'revoked':
        throw AuthErrors.refreshInvalid('the session was signed out');
      case 'expired':
        throw AuthErrors.refreshInvalid('the session expired');
      case 'reused':
        // ids only: never the token or its hash
        this.logger.warn(`refresh token reuse: revoked family ${result.familyId} of user ${result.userId}`);
        throw AuthErrors.refreshReused();
      case 'rotated': {
        const user = await this.users.findById(result.userId);
        if (!user) {
          await this.sessions.revokeFamily(result.familyId);
          throw AuthErrors.refreshInvalid('the user no longer exists');
        }
        return this.issuer.complete(user, next);
      }
    }
  }
}
