import { Command } from '@nestjs/cqrs';
import type { IssuedSession } from '../../session/session-issuer';

export class VerifySignInCodeCommand extends Command<IssuedSession> {
  constructor(
    readonly email: string,
    readonly code: string,
    readonly ip: string,
  ) {
    super();
  }
}
