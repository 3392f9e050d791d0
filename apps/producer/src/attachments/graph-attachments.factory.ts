import { Inject, Injectable } from '@nestjs/common';
import {
  GRAPH_LIB_OPTIONS,
  GraphAttachmentsClient,
  KeyedSemaphore,
  MAX_CONCURRENT_REQUESTS_PER_MAILBOX,
  sharedMailboxLimiter,
  TokenVault,
  type GraphLibModuleOptions,
} from '@email-core/graph';

/**
 * Graph attachment clients per account, with the account's token from the vault and GraphLibModule's settings
 * (retries, timeout, per-mailbox concurrency). Built here because GraphClientFactory builds mail clients only.
 */
@Injectable()
export class GraphAttachmentsFactory {
  private readonly limiter: KeyedSemaphore;

  constructor(
    private readonly vault: TokenVault,
    @Inject(GRAPH_LIB_OPTIONS) private readonly options: GraphLibModuleOptions,
  ) {
    const max = options.maxConcurrencyPerMailbox;
    // the process-wide limiter GraphLibModule's clients use, unless it was configured with another limit
    this.limiter =
      max === undefined || max === MAX_CONCURRENT_REQUESTS_PER_MAILBOX
        ? sharedMailboxLimiter
        : new KeyedSemaphore(max);
  }

  forAccount(accountId: string): GraphAttachmentsClient {
    return new GraphAttachmentsClient({
      ...this.options.graph,
      graphBaseUrl: this.options.microsoft.graphBaseUrl,
      mailboxKey: accountId,
      limiter: this.limiter,
      getAccessToken: (opts) => this.vault.getAccessToken(accountId, opts),
    });
  }
}
