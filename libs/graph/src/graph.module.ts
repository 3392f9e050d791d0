import { Global, Injectable, Module, type DynamicModule } from '@nestjs/common';
import type { Cluster } from 'ioredis';
import { REDIS_CLUSTER } from '@email-core/cache';
import type { MicrosoftConfig } from '@email-core/config';
import { TokenCipher, type EncryptionKey } from '@email-core/crypto';
import { MailAccountTokensRepository } from '@email-core/database';
import { ProviderMetrics } from '@email-core/metrics';
import { ClusterMailboxPermits } from './cluster-mailbox-permits';
import type { AccessTokenProvider } from './graph-middleware';
import type { GraphRequestObserver } from './graph-request-observer';
import { GraphMailClient, type GraphMailClientOptions } from './graph-mail-client';
import { KeyedSemaphore, MAX_CONCURRENT_REQUESTS_PER_MAILBOX, sharedMailboxLimiter } from './keyed-semaphore';
import { microsoftFetch } from './microsoft-http';
import { OutlookAuthClient } from './outlook-auth-client';
import { TokenVault, type TokenVaultOptions } from './token-vault';

export interface GraphLibModuleOptions {
  microsoft: MicrosoftConfig;
  /** `tokenEncryptionKeys` of the producer/consumer config (TOKEN_ENCRYPTION_KEYS); the first one encrypts */
  encryptionKeys: ReadonlyArray<EncryptionKey>;
  /** concurrent Graph requests per mailbox in this process (default and maximum sensible value: 4) */
  maxConcurrencyPerMailbox?: number;
  vault?: Partial<TokenVaultOptions>;
  /**
   * Settings of every Graph client built from this module. `fetch` defaults to {@link microsoftFetch} with
   * `microsoft.extraCa` (MS_CA_FILE): the apps' clients built from GRAPH_LIB_OPTIONS get it too.
   */
  graph?: Pick<GraphMailClientOptions, 'retry' | 'requestTimeoutMs' | 'fetch'>;
}

export const GRAPH_LIB_OPTIONS = Symbol('GRAPH_LIB_OPTIONS');
/** the module's Graph clients' observer: the app's ProviderMetrics for 'outlook', or null without metrics */
const GRAPH_REQUEST_OBSERVER = Symbol('GRAPH_REQUEST_OBSERVER');

/** Builds Graph clients whose token comes from the vault: `factory.forAccount(accountId)`. */
@Injectable()
export class GraphClientFactory {
  constructor(
    private readonly vault: TokenVault,
    private readonly graphBaseUrl: string,
    private readonly limiter: KeyedSemaphore = sharedMailboxLimiter,
    private readonly defaults: Pick<
      GraphMailClientOptions,
      'retry' | 'requestTimeoutMs' | 'fetch' | 'observer'
    > = {},
  ) {}

  /** A client for one mailbox; cheap to create, and all clients of one account share its concurrency limit. */
  forAccount(accountId: string): GraphMailClient {
    return new GraphMailClient(this.clientOptions(accountId));
  }

  /**
   * The options of any Graph client of one mailbox (mail, attachments, subscriptions): the module's defaults,
   * the shared per-mailbox limit and, unless another is given, the account's token from the vault.
   */
  clientOptions(
    accountId: string,
    getAccessToken: AccessTokenProvider = (opts) => this.vault.getAccessToken(accountId, opts),
  ): GraphMailClientOptions {
    return {
      ...this.defaults,
      graphBaseUrl: this.graphBaseUrl,
      mailboxKey: accountId,
      limiter: this.limiter,
      getAccessToken,
    };
  }
}

function limiterFor(max: number | undefined): KeyedSemaphore {
  return max === undefined || max === MAX_CONCURRENT_REQUESTS_PER_MAILBOX
    ? sharedMailboxLimiter
    : new KeyedSemaphore(max);
}

/**
 * Microsoft identity + Graph for producer and consumer. Needs `DatabaseModule` (for
 * `MailAccountTokensRepository`) and `CacheModule` (`REDIS_CLUSTER`) in the application, as
 * `InfrastructureModule` provides them. Exports `OutlookAuthClient`, `TokenVault`, `GraphClientFactory` and the
 * `TokenCipher` built from the configured keys.
 */
@Global()
@Module({})
export class GraphLibModule {
  static forRoot(given: GraphLibModuleOptions): DynamicModule {
    const limiter = limiterFor(given.maxConcurrencyPerMailbox);
    // one transport for the authority and Graph: MS_CA_FILE's CAs are trusted there and nowhere else
    const fetch = given.graph?.fetch ?? microsoftFetch(given.microsoft.extraCa?.pem);
    const options: GraphLibModuleOptions = { ...given, graph: { ...given.graph, fetch } };
    return {
      module: GraphLibModule,
      providers: [
        { provide: GRAPH_LIB_OPTIONS, useValue: options },
        { provide: TokenCipher, useFactory: () => new TokenCipher(options.encryptionKeys) },
        {
          // every Graph client of the module reports its requests to the app's metrics (when it has them)
          provide: GRAPH_REQUEST_OBSERVER,
          inject: [{ token: ProviderMetrics, optional: true }],
          useFactory: (metrics: ProviderMetrics | undefined) => metrics?.forProvider('outlook') ?? null,
        },
        {
          provide: OutlookAuthClient,
          inject: [GRAPH_REQUEST_OBSERVER],
          useFactory: (observer: GraphRequestObserver | null) =>
            new OutlookAuthClient(options.microsoft, {
              fetch,
              graph: { ...options.graph, limiter, ...(observer ? { observer } : {}) },
            }),
        },
        {
          provide: TokenVault,
          inject: [MailAccountTokensRepository, REDIS_CLUSTER, OutlookAuthClient, TokenCipher],
          useFactory: (
            repo: MailAccountTokensRepository,
            redis: Cluster,
            auth: OutlookAuthClient,
            cipher: TokenCipher,
          ) => new TokenVault(repo, redis, auth, cipher, options.vault),
        },
        {
          // the per-mailbox limit counts every process of the deployment, not each one on its own
          provide: ClusterMailboxPermits,
          inject: [REDIS_CLUSTER],
          useFactory: (redis: Cluster) => {
            const permits = new ClusterMailboxPermits(redis);
            limiter.useCluster(permits);
            return permits;
          },
        },
        {
          provide: GraphClientFactory,
          inject: [TokenVault, GRAPH_REQUEST_OBSERVER],
          useFactory: (vault: TokenVault, observer: GraphRequestObserver | null) =>
            new GraphClientFactory(vault, options.microsoft.graphBaseUrl, limiter, {
              ...options.graph,
              ...(observer ? { observer } : {}),
            }),
        },
      ],
      exports: [GRAPH_LIB_OPTIONS, TokenCipher, OutlookAuthClient, TokenVault, GraphClientFactory],
    };
  }
}
