import { Command } from '@nestjs/cqrs';
import type { ImapAccountSettings } from '@email-core/providers';

export interface LinkImapAccountResult {
  accountId: string;
  /** false: the user had linked this mailbox before; its settings were replaced */
  created: boolean;
}

/** A signed-in user links an IMAP/SMTP mailbox with the servers and logins they typed (validated, untrusted). */
export class LinkImapAccountCommand extends Command<LinkImapAccountResult> {
  constructor(
    readonly userId: string,
    readonly settings: ImapAccountSettings,
  ) {
    super();
  }
}
