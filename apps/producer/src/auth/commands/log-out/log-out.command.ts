import { Command } from '@nestjs/cqrs';

/** `refreshToken` is the cookie's value as presented, possibly missing or malformed. */
export class LogOutCommand extends Command<void> {
  constructor(readonly refreshToken: string | undefined) {
    super();
  }
}
