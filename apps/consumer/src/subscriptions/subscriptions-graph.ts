import { Inject, Injectable } from '@nestjs/common';
import type { SubscriptionRemoval } from '@email-core/database';
import {
  GRAPH_LIB_OPTIONS,
  GraphClientFactory,
  GraphSubscriptionsClient,
  TokenVault,
  type GraphLibModuleOptions,
  type GraphSubscription,
  type NewGraphSubscription,
} from '@email-core/graph';

/** What the subscription manager needs of Graph for one mailbox (libs/graph's GraphSubscriptionsClient). */
export interface MailboxSubscriptions {
  list(): Promise<GraphSubscription[]>;
  create(input: NewGraphSubscription): Promise<GraphSubscription>;
  /** null when Graph no longer has it */
  renew(id: string, expiresAt: Date): Promise<GraphSubscription | null>;
  /** false when it was already gone */
  delete(id: string): Promise<boolean>;
}

export interface SubscriptionsGraphFactory {
  /** the account's subscriptions, authenticated through the token vault */
  forAccount(accountId: string): MailboxSubscriptions;
  /** an unlinked account's subscriptions, authenticated with the tokens kept in its removal row */
  forRemoval(removal: SubscriptionRemoval): MailboxSubscriptions;
}

export const SUBSCRIPTIONS_GRAPH = Symbol('SUBSCRIPTIONS_GRAPH');

/** The real thing: Microsoft Graph (or the emulator) through libs/graph. */
@Injectable()
export class LibSubscriptionsGraphFactory implements SubscriptionsGraphFactory {
  constructor(
    private readonly clients: GraphClientFactory,
    private readonly vault: TokenVault,
    @Inject(GRAPH_LIB_OPTIONS) private readonly options: GraphLibModuleOptions,
  ) {}

  forAccount(accountId: string): MailboxSubscriptions {
    return new GraphSubscriptionsClient(this.clients.forAccount(accountId).sdk);
  }

  forRemoval(removal: SubscriptionRemoval): MailboxSubscriptions {
    return GraphSubscriptionsClient.create({
      ...this.options.graph,
      graphBaseUrl: this.options.microsoft.graphBaseUrl,
      mailboxKey: removal.accountId,
      getAccessToken: (opts) => this.vault.accessTokenFromSealed(removal.accountId, removal, opts),
    });
  }
}
