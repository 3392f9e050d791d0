import { Command } from '@nestjs/cqrs';

/** The user removes one of their linked accounts and everything mirrored from it. */
export class UnlinkAccountCommand extends Command<void> {
  constructor(
    readonly userId: string,
    readonly accountId: string,
  ) {
    super();
  }
}
