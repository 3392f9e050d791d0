import { Injectable, Logger } from '@nestjs/common';
import type { AccountStatus } from '@email-core/contracts';
import { MailAccountSyncRepository, type AccountForSync } from '@email-core/database';
import { PermanentFailure } from '@email-core/kafka';
import { CredentialsNotFoundError, ReauthRequiredError } from '@email-core/providers';
import { DomainEventsPublisher } from '../messaging/domain-events.publisher';

/**
 * What a mailbox worker does when the provider refuses the account itself, the same for a sync and a notification
 * round: a dead grant marks the account `reauth_required` and tells its user (not retried: only the user can fix
 * it, by linking again); an account without tokens is a permanent failure; anything else is the caller's to throw.
 */
@Injectable()
export class AccountFailures {
  private readonly logger = new Logger('AccountFailures');

  constructor(
    private readonly accounts: MailAccountSyncRepository,
    private readonly events: DomainEventsPublisher,
  ) {}

  /** Resolves `'reauth_required'` when the error was settled here; throws otherwise. */
  async settle(err: unknown, account: AccountForSync): Promise<'reauth_required'> {
    if (err instanceof CredentialsNotFoundError) {
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
