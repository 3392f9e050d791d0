import { Command } from '@nestjs/cqrs';
import type { MailboxPoke } from '@email-core/contracts';
import type { MailboxRoundOutcome } from '../../mirror/mailbox-round';

/** One round for one mailbox: the union of its pokes (every folder when one asks for it). */
export class ApplyPokeCommand extends Command<MailboxRoundOutcome> {
  readonly pokes: readonly MailboxPoke[];

  constructor(
    /** one poke, or every poke of one account in a fetched batch */
    pokes: MailboxPoke | readonly MailboxPoke[],
    /** aborted when the worker stops or loses the partition: give up at the next page boundary */
    readonly signal: AbortSignal = new AbortController().signal,
  ) {
    super();
    this.pokes = Array.isArray(pokes) ? pokes : [pokes as MailboxPoke];
    if (this.pokes.length === 0) throw new Error('ApplyPokeCommand needs at least one poke');
    if (this.pokes.some((p) => p.accountId !== this.pokes[0].accountId)) {
      throw new Error('ApplyPokeCommand takes the pokes of one account');
    }
  }

  get accountId(): string {
    return this.pokes[0].accountId;
  }
}
