import { Command } from '@nestjs/cqrs';
import type { IssuedSession } from '../../session/session-issuer';

/** `refreshToken` is the cookie's value as presented, possibly missing or malformed. */
export class RefreshSessionCommand extends Command<IssuedSession> {
  constructor(readonly refreshToken: string | undefined) {
    super();
  }
}
