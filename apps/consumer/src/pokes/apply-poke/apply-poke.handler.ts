import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { MailboxRound, type MailboxRoundOutcome } from '../../mirror/mailbox-round';
import { ApplyPokeCommand } from './apply-poke.command';

/**
 * Live changes: whatever a watcher poked (the Graph webhook today, IMAP IDLE tomorrow, the reconciliation) runs
 * as one round of the mirror core for the account.
 */
@CommandHandler(ApplyPokeCommand)
export class ApplyPokeHandler implements ICommandHandler<ApplyPokeCommand, MailboxRoundOutcome> {
  constructor(private readonly round: MailboxRound) {}

  execute(command: ApplyPokeCommand): Promise<MailboxRoundOutcome> {
    return this.round.run(command.accountId, command.pokes, command.signal);
  }
}
