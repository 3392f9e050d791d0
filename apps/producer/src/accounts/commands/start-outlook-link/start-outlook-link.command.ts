import { Command } from '@nestjs/cqrs';

export interface StartOutlookLinkResult {
  /** the Microsoft sign-in page to send the browser to */
  url: string;
}

/** A signed-in user asks to link an Outlook mailbox, from the browser holding `browserKey`. */
export class StartOutlookLinkCommand extends Command<StartOutlookLinkResult> {
  constructor(
    readonly userId: string,
    readonly browserKey: string,
  ) {
    super();
  }
}
