import { Command } from '@nestjs/cqrs';
import type { IssuedSession } from '../../session/session-issuer';

export class SignInCommand extends Command<IssuedSession> {
  constructor(
    readonly email: string,
    readonly password: string,
    readonly ip: string,
  ) {
    super();
  }
}
