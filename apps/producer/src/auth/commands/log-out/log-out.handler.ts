import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { RefreshSessionsRepository } from '@email-core/database';
import { hashRefreshToken, isWellFormedRefreshToken } from '../../tokens/refresh-token';
import { LogOutCommand } from './log-out.command';

/**
 * Revokes the session's whole family (its earlier, rotated tokens included), so nothing from this sign-in
 * refreshes again. Idempotent: without a valid cookie there is nothing to revoke, and that is not an error.
 * Access tokens already issued stay valid until they expire (15 minutes); they are not tracked.
 */
@CommandHandler(LogOutCommand)
export class LogOutHandler implements ICommandHandler<LogOutCommand, void> {
  constructor(private readonly sessions: RefreshSessionsRepository) {}

  async execute({ refreshToken }: LogOutCommand): Promise<void> {
    if (!isWellFormedRefreshToken(refreshToken)) return;
    await this.sessions.revokeFamilyOf(hashRefreshToken(refreshToken));
  }
}
