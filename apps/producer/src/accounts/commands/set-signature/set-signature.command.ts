import { Command } from '@nestjs/cqrs';

/** The owner sets (or, with an empty one, removes) an account's signature: HTML from the dashboard's editor. */
export class SetSignatureCommand extends Command<{ signatureHtml: string | null }> {
  constructor(
    readonly userId: string,
    readonly accountId: string,
    readonly html: string,
  ) {
    super();
  }
}
