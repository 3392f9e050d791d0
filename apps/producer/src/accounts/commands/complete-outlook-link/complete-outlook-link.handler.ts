import { Logger } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { MailAccountsRepository } from '@email-core/database';
import { OutlookAuthClient, OutlookAuthError, TokenVault } from '@email-core/graph';
import { AccountErrors } from '../../account-errors';
import { linkKeyMatches } from '../../link-browser-cookie';
import { LinkUrls } from '../../link-urls';
import { OAuthStateStore } from '../../oauth-state.store';
import { SyncRequestOutbox } from '../../sync-request-outbox';
import { CompleteOutlookLinkCommand, type CompleteOutlookLinkResult } from './complete-outlook-link.command';
import { AccountWrites } from '../../account-writes';

const PROVIDER_ERROR = /^[a-z_]{1,64}$/;

/**
 * Redeems the code and records the link. The account, its encrypted tokens and the `sync.requested` that starts
 * its sync commit in one transaction, so a crash right after the callback still gets the mailbox synced (the
 * outbox relay finds the row) and a failure leaves nothing half-linked. Never logs the code or a token.
 */
@CommandHandler(CompleteOutlookLinkCommand)
export class CompleteOutlookLinkHandler implements ICommandHandler<CompleteOutlookLinkCommand> {
  private readonly logger = new Logger('OutlookLink');

  constructor(
    private readonly auth: OutlookAuthClient,
    private readonly vault: TokenVault,
    private readonly states: OAuthStateStore,
    private readonly accounts: MailAccountsRepository,
    private readonly syncRequests: SyncRequestOutbox,
    private readonly urls: LinkUrls,
    private readonly dataSource: DataSource,
    private readonly writes: AccountWrites,
  ) {}

  async execute({ callback }: CompleteOutlookLinkCommand): Promise<CompleteOutlookLinkResult> {
    // The browser binding is checked before the state is spent: a callback from another browser (without the
    // link cookie, or with a planted one) leaves the state for the browser that started the link.
    const { state } = callback;
    const seen = state ? await this.states.peek(state) : null;
    if (!state || !seen || !linkKeyMatches(seen.browserBinding, callback.browserKey)) {
      throw AccountErrors.invalidState();
    }
    // The right browser: the state is taken (deleted) before anything else is looked at, and whatever happens
    // next, it is spent; of two concurrent callbacks, GETDEL gives it to one only.
    const pending = await this.states.take(state);
    if (!pending || pending.browserBinding !== seen.browserBinding) throw AccountErrors.invalidState();
    if (callback.error !== undefined) {
      if (callback.error === 'access_denied') throw AccountErrors.consentDenied();
      throw AccountErrors.authorizationFailed(
        PROVIDER_ERROR.test(callback.error) ? callback.error : 'unknown error',
      );
    }
    if (!callback.code) throw AccountErrors.missingCode();

    const redirectUri = this.urls.callback;
    const redeemed = await this.auth
      .redeemCode({ code: callback.code, codeVerifier: pending.codeVerifier, redirectUri })
      .catch((err: unknown): never => {
        if (err instanceof OutlookAuthError && err.code === 'invalid_grant')
          throw AccountErrors.codeRejected();
        // OutlookAuthError's message names the OAuth error and AADSTS code only; anything else: its class only.
        this.logger.warn(
          `code redemption failed for user ${pending.userId}: ${err instanceof OutlookAuthError ? err.message : errorName(err)}`,
        );
        throw AccountErrors.providerUnavailable();
      });

    const { identity, tokens } = redeemed;
    const account = await this.dataSource.transaction(async (manager) => {
      const linked = await this.accounts.upsertLinked(manager, {
        userId: pending.userId,
        provider: 'outlook',
        externalUserId: identity.externalUserId,
        email: identity.email,
        displayName: identity.displayName,
      });
      await this.vault.saveInitial(manager, linked.id, tokens);
      await this.syncRequests.add(manager, linked.id, linked.created ? 'linked' : 'relinked');
      return linked;
    });
    this.syncRequests.committed();
    await this.writes.committed(account.id);
    this.logger.log(
      `user ${pending.userId} ${account.created ? 'linked' : 're-linked'} mail account ${account.id}`,
    );
    return { accountId: account.id, created: account.created };
  }
}

function errorName(err: unknown): string {
  return err instanceof Error ? err.name : typeof err;
}
