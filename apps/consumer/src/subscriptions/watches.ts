import { Injectable } from '@nestjs/common';
import type { SubscriptionRemoval } from '@email-core/database';
import { ProviderRegistry, type MailboxWatch } from '@email-core/providers';
import { DEFAULT_PROVIDER } from '../mirror/provider-of';

/** The watch channels of a mailbox (Graph subscriptions today), through the account's provider adapter. */
export interface MailboxWatches {
  /** the account's channels, authenticated with its stored credentials */
  forAccount(accountId: string, provider?: string): MailboxWatch;
  /** an unlinked account's channels, authenticated with the credentials kept in its removal row */
  forRemoval(removal: SubscriptionRemoval): MailboxWatch;
}

export const MAILBOX_WATCHES = Symbol('MAILBOX_WATCHES');

/** The real thing: the registry's adapters. */
@Injectable()
export class RegistryWatches implements MailboxWatches {
  constructor(private readonly providers: ProviderRegistry) {}

  forAccount(accountId: string, provider = DEFAULT_PROVIDER): MailboxWatch {
    return this.providers.mailbox({ id: accountId, provider }).watch;
  }

  forRemoval(removal: SubscriptionRemoval): MailboxWatch {
    // removal rows are kept for the watch channels of Outlook's subscriptions (graph_subscriptions)
    return this.providers.adapter(DEFAULT_PROVIDER).watchOfUnlinked({
      accountId: removal.accountId,
      sealed: {
        keyId: removal.keyId,
        accessTokenEnc: removal.accessTokenEnc,
        accessTokenExpiresAt: removal.accessTokenExpiresAt,
        refreshTokenEnc: removal.refreshTokenEnc,
      },
    });
  }
}
