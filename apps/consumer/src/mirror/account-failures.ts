import { Injectable, Logger } from '@nestjs/common';
import type { AccountStatus } from '@email-core/contracts';
import { MailAccountSyncRepository, type AccountForSync } from '@email-core/database';
import { PermanentFailure } from '@email-core/kafka';
import { CredentialsNotFoundError, ReauthRequiredError } from '@email-core/providers';
import { DomainEventsPublisher } from '../messaging/domain-events.publisher';

/**
 * What a mailbox worker does when the provider refuses the account itself, the same for a sync and a notification
 * round: a dead grant marks the account `reauth_required` and tells its user (not retried: only the user can fix
 * it, by linking again); an account without tokens is a permanent failure, unless the account itself is gone (its
 * row, and its credentials with it, were removed while the work ran: the work is dropped quietly); anything else is
 * the caller's to throw.
 */
@Injectable()
export class AccountFailures {
  private readonly logger = new Logger('AccountFailures');

  constructor(
    private readonly accounts: MailAccountSyncRepository,
    private readonly events: DomainEventsPublisher,
  ) {}

  /**
   * Resolves `'reauth_required'` or `'skipped'` (the account was removed meanwhile) when the error was settled here;
   * throws otherwise.
   */
  async settle(err: unknown, account: AccountForSync): Promise<'reauth_required' | 'skipped'> {
    if (err instanceof CredentialsNotFoundError) {
      // Unlinked while a sync, round or catch-up of it ran (a resync asked just before the unlink, say): its
      // credentials went with its row. Normal operation, nothing left to do: no dead letter.
      if (!(await this.accounts.findForSync(account.id))) {
        this.logger.debug(`account ${account.id} was removed meanwhile: its work is dropped`);
        return 'skipped';
      }
      // linking stores the tokens with the account, so retrying cannot help: straight to the dead-letter topic
      throw new PermanentFailure(err.message, 'ACCOUNT_TOKENS_NOT_FOUND');
    }
    if (!(err instanceof ReauthRequiredError)) throw err;
    await this.accounts.markReauthRequired(account.id, err.reason);
    await this.events.publish(statusEvent(account, 'reauth_required', err.reason));
    this.logger.warn(`account ${account.id} needs re-authorization: ${err.reason}`);
    return 'reauth_required';
  }
}

export function statusEvent(
  account: AccountForSync,
  status: AccountStatus['status'],
  reason?: string,
): AccountStatus {
  return {
    type: 'account.status',
    v: 1,
    accountId: account.id,
    userId: account.userId,
    status,
    ...(reason === undefined ? {} : { reason: reason.slice(0, 500) }),
    at: new Date().toISOString(),
  };
}
