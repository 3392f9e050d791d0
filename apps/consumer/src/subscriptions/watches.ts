import { Injectable } from '@nestjs/common';
import type { SubscriptionRemoval } from '@email-core/database';
import { ProviderRegistry, type MailboxWatch, type MailboxWatching } from '@email-core/providers';
import { DEFAULT_PROVIDER } from '../mirror/provider-of';

/**
 * The watch channels of a mailbox (Graph subscriptions), through the account's provider adapter. Only providers
 * whose mailboxes are watched through channels (`MailProvider.watching` 'channels') have any: one watched over a
 * connection of ours (IMAP IDLE) answers a `ConnectionWatch`, which this feature leaves to that provider's watcher.
 */
export interface MailboxWatches {
  /** the account's watch, authenticated with its stored credentials */
  forAccount(accountId: string, provider?: string): MailboxWatching;
  /** an unlinked account's channels, authenticated with the credentials kept in its removal row */
  forRemoval(removal: SubscriptionRemoval): MailboxWatch;
  /** the providers whose mailboxes are watched through channels: the only accounts this feature keeps */
  channelProviders(): string[];
}

export const MAILBOX_WATCHES = Symbol('MAILBOX_WATCHES');

/** The real thing: the registry's adapters. */
@Injectable()
export class RegistryWatches implements MailboxWatches {
  constructor(private readonly providers: ProviderRegistry) {}

  forAccount(accountId: string, provider = DEFAULT_PROVIDER): MailboxWatching {
    return this.providers.mailbox({ id: accountId, provider }).watch;
  }

  forRemoval(removal: SubscriptionRemoval): MailboxWatch {
    // removal rows are kept for the watch channels of Outlook's subscriptions (graph_subscriptions)
    const watch = this.providers.adapter(DEFAULT_PROVIDER).watchOfUnlinked({
      accountId: removal.accountId,
      sealed: {
        keyId: removal.keyId,
        accessTokenEnc: removal.accessTokenEnc,
        accessTokenExpiresAt: removal.accessTokenExpiresAt,
        refreshTokenEnc: removal.refreshTokenEnc,
      },
    });
    if (watch.kind !== 'channels') {
      throw new Error(`provider '${DEFAULT_PROVIDER}' keeps no watch channels to delete`);
    }
    return watch;
  }

  channelProviders(): string[] {
    return this.providers.names().filter((name) => this.providers.adapter(name).watching === 'channels');
  }
}
