import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { ConsumerConfig } from '@email-core/config';
import {
  MailAccountSyncRepository,
  MailChangesRepository,
  MailFoldersRepository,
  MessagesRepository,
} from '@email-core/database';
import {
  ImapProvider,
  imapProvider,
  OutlookProvider,
  outlookProvider,
  ProviderRegistry,
  type HostPolicy,
  type MailProvider,
} from '@email-core/providers';
import { AccountCacheVersion } from './account-cache-version';
import { AccountFailures } from './account-failures';
import { FolderDeltaService } from './folder-delta.service';
import { MailChangesPruneJob } from './mail-changes-prune.job';
import { MailboxLock } from './mailbox-lock';
import { MailboxRound } from './mailbox-round';
import { MIRROR_SETTINGS, ROUND_SETTINGS, type MirrorSettings, type RoundSettings } from './mirror.settings';

export interface MirrorModuleOptions {
  /** the process's Kafka module (MessagingModule.forRoot): the core publishes domain events through it */
  messaging: DynamicModule;
  /**
   * Adapters besides (or, under the same provider name, instead of) the Outlook adapter built from GraphLibModule
   * and the IMAP adapter:
   * tests give an in-memory adapter, or an Outlook adapter with tokens of their own.
   */
  mailProviders?: MailProvider[];
  rounds?: Partial<RoundSettings>;
}

/** the IMAP adapter's host policy (IMAP_ALLOW_PRIVATE_HOSTS, IMAP_CA_FILE) */
const IMAP_HOST_POLICY = Symbol('IMAP_HOST_POLICY');

const repository = <T>(type: new (ds: DataSource) => T): Provider => ({
  provide: type,
  inject: [DataSource],
  useFactory: (ds: DataSource) => new type(ds),
});

/**
 * The mirror core: the one write path every feature shares (a folder's changes applied page by page with the
 * change log, counts, cache-version bump and events after commit; the folder tree; the mailbox lock; failure
 * accounting; the multi-pass incremental round) and the provider registry through which it, and every use case,
 * reaches an account's provider. Not global: AppModule builds it once and hands it to each feature module.
 */
@Module({})
export class MirrorModule {
  static forRoot(config: ConsumerConfig, options: MirrorModuleOptions): DynamicModule {
    const mirror: MirrorSettings = {
      pageSize: config.sync.pageSize,
      folderParallelism: config.sync.folderParallelism,
      pageWriters: config.sync.pageWriters,
      firstScreenSize: config.sync.firstScreenSize,
      progressEveryPages: config.sync.progressEveryPages,
      progressMinIntervalMs: config.sync.progressMinIntervalMs,
    };
    const rounds: RoundSettings = {
      lockWaitMs: 20_000,
      maxLookups: 100,
      changesRetentionHours: config.notifications.changesRetentionHours,
      pruneIntervalMs: 3_600_000,
      ...options.rounds,
    };
    const given = options.mailProviders ?? [];
    return {
      module: MirrorModule,
      imports: [options.messaging],
      providers: [
        { provide: MIRROR_SETTINGS, useValue: mirror },
        { provide: ROUND_SETTINGS, useValue: rounds },
        outlookProvider,
        { provide: IMAP_HOST_POLICY, useValue: config.imap },
        imapProvider(IMAP_HOST_POLICY, (policy: HostPolicy) => policy),
        {
          // built at boot: fails it when a provider the product knows has no adapter
          provide: ProviderRegistry,
          inject: [OutlookProvider, ImapProvider],
          useFactory: (outlook: OutlookProvider, imap: ImapProvider) =>
            new ProviderRegistry([
              ...given,
              ...[outlook, imap].filter((a) => !given.some((g) => g.name === a.name)),
            ]),
        },
        repository(MailAccountSyncRepository),
        repository(MailFoldersRepository),
        repository(MessagesRepository),
        repository(MailChangesRepository),
        AccountCacheVersion,
        AccountFailures,
        FolderDeltaService,
        MailboxLock,
        MailboxRound,
        MailChangesPruneJob,
      ],
      exports: [
        options.messaging,
        MIRROR_SETTINGS,
        ROUND_SETTINGS,
        ProviderRegistry,
        MailAccountSyncRepository,
        MailFoldersRepository,
        MessagesRepository,
        AccountCacheVersion,
        AccountFailures,
        FolderDeltaService,
        MailboxLock,
        MailboxRound,
      ],
    };
  }
}
