import { Command } from '@nestjs/cqrs';

export class RequestSignInCodeCommand extends Command<void> {
  constructor(
    readonly email: string,
    readonly ip: string,
  ) {
    super();
  }
}
