import { Command } from '@nestjs/cqrs';

export interface CompleteOutlookLinkResult {
  accountId: string;
  created: boolean;
}

/** The browser is back from Microsoft with what it was given (all of it untrusted). */
export class CompleteOutlookLinkCommand extends Command<CompleteOutlookLinkResult> {
  constructor(
    readonly callback: {
      state?: string;
      code?: string;
      /** Microsoft's `error` (e.g. `access_denied`) */
      error?: string;
      /** the browser's link cookie */
      browserKey?: string;
    },
  ) {
    super();
  }
}
