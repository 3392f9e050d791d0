import { MemoryMailboxClient, MemoryProvider, type MailboxAttachments } from '@email-core/providers';

/**
 * The in-memory adapter with two levers for a use case's spec, instead of a hand-built mailbox:
 * - `failure`: while set, every call of every mailbox fails with it (the provider port's errors:
 *   `ProviderRefusedError`, `ProviderUnavailableError`, `ReauthRequiredError`, ...);
 * - `attachments`: while set, every mailbox's attachments answer through it (what a real provider may answer and
 *   the memory one does not, e.g. a download typed differently from its listing).
 */
export class StubbedMemoryProvider extends MemoryProvider {
  failure: Error | undefined;
  attachments: MailboxAttachments | undefined;

  override mailbox(accountId: string): MemoryMailboxClient {
    const mailbox = super.mailbox(accountId);
    const failure = this.failure;
    if (failure) {
      return new MemoryMailboxClient({
        open: () => {
          throw failure;
        },
        deliver: () => undefined,
        watch: mailbox.watch,
      });
    }
    return this.attachments ? Object.assign(mailbox, { attachments: this.attachments }) : mailbox;
  }
}
