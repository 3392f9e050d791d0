import type { FactoryProvider } from '@nestjs/common';
import {
  GraphClientFactory,
  GraphSubscriptionsClient,
  TokenVault,
  type AccessTokenProvider,
  type GraphMailClientOptions,
  type TokenSet,
} from '@email-core/graph';
import type {
  CredentialVault,
  KeptCredentials,
  Mailbox,
  MailboxWatch,
  MailProvider,
  SealedCredentials,
  UnlinkedAccount,
} from '../port';
import { outlookCall } from './outlook-errors';
import { OutlookMailbox, OutlookWatch } from './outlook-mailbox';

/** Where the adapter gets the options of a mailbox's Graph clients (libs/graph's `GraphClientFactory`). */
export interface OutlookClientOptions {
  clientOptions(accountId: string, getAccessToken?: AccessTokenProvider): GraphMailClientOptions;
}

/** The token vault (OAuth tokens sealed in the account row) behind the port's vault interface. */
export class OutlookTokenVault implements CredentialVault<TokenSet> {
  constructor(private readonly vault: TokenVault) {}

  seal(accountId: string, tokens: TokenSet): SealedCredentials {
    return this.vault.seal(accountId, tokens);
  }

  credentialFor(accountId: string, opts?: { forceRefresh?: boolean }): Promise<string> {
    return outlookCall(() => this.vault.getAccessToken(accountId, opts));
  }

  credentialFromSealed(
    accountId: string,
    sealed: KeptCredentials,
    opts?: { forceRefresh?: boolean },
  ): Promise<string> {
    return outlookCall(() => this.vault.accessTokenFromSealed(accountId, sealed, opts));
  }

  forget(accountId: string): void {
    this.vault.forget(accountId);
  }
}

/** The Outlook adapter: Microsoft Graph (or the emulator) through libs/graph, registered as provider 'outlook'. */
export class OutlookProvider implements MailProvider {
  static readonly providerName = 'outlook';
  readonly name = OutlookProvider.providerName;
  /** Graph subscriptions, kept by the subscriptions feature */
  readonly watching = 'channels';

  /**
   * `sealedToken` opens an unlinked account's kept tokens for its Graph clients; it throws libs/graph's own errors
   * (the clients' middleware translates those; the port's vault translates them for its callers).
   */
  constructor(
    private readonly clients: OutlookClientOptions,
    readonly vault: CredentialVault,
    private readonly sealedToken: (
      accountId: string,
      sealed: KeptCredentials,
      opts?: { forceRefresh?: boolean },
    ) => Promise<string> = (accountId, sealed, opts) => vault.credentialFromSealed(accountId, sealed, opts),
  ) {}

  /**
   * An adapter without the token vault (tests, tools): each account's token comes from `accessToken`. Its vault
   * opens no sealed columns.
   */
  static create(options: {
    graphBaseUrl: string;
    accessToken: (accountId: string, opts?: { forceRefresh?: boolean }) => Promise<string>;
    graph?: Pick<GraphMailClientOptions, 'retry' | 'requestTimeoutMs' | 'fetch' | 'limiter' | 'sleep'>;
  }): OutlookProvider {
    const clients: OutlookClientOptions = {
      clientOptions: (accountId, getAccessToken) => ({
        ...options.graph,
        graphBaseUrl: options.graphBaseUrl,
        mailboxKey: accountId,
        getAccessToken: getAccessToken ?? ((opts) => options.accessToken(accountId, opts)),
      }),
    };
    const unsealed = (): never => {
      throw new Error('this Outlook adapter was built without the token vault');
    };
    return new OutlookProvider(clients, {
      seal: unsealed,
      credentialFor: (accountId, opts) => options.accessToken(accountId, opts),
      credentialFromSealed: () => Promise.reject(new Error('no token vault')),
      forget: () => undefined,
    });
  }

  mailbox(accountId: string): Mailbox {
    return new OutlookMailbox(this.clients.clientOptions(accountId));
  }

  watchOfUnlinked(account: UnlinkedAccount): MailboxWatch {
    const options = this.clients.clientOptions(account.accountId, (opts) =>
      this.sealedToken(account.accountId, account.sealed, opts),
    );
    return new OutlookWatch(GraphSubscriptionsClient.create(options));
  }
}

/** The Nest provider of the Outlook adapter, from GraphLibModule's client factory and token vault. */
export const outlookProvider: FactoryProvider<OutlookProvider> = {
  provide: OutlookProvider,
  inject: [GraphClientFactory, TokenVault],
  useFactory: (clients: GraphClientFactory, vault: TokenVault) =>
    new OutlookProvider(clients, new OutlookTokenVault(vault), (accountId, sealed, opts) =>
      vault.accessTokenFromSealed(accountId, sealed, opts),
    ),
};
