import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import type { ConsumerConfig } from '@email-core/config';
import {
  MailAccountSyncRepository,
  MailChangesRepository,
  MailFoldersRepository,
  MessagesRepository,
} from '@email-core/database';
import { AccountCacheVersion } from './account-cache-version';
import { AccountFailures } from './account-failures';
import { FolderDeltaService } from './folder-delta/folder-delta.service';
import { MailboxLock } from './mailbox-lock';
import { SubscriptionRequests } from './subscription-requests';
import { SyncMailboxHandler } from './sync-mailbox/sync-mailbox.handler';
import { GRAPH_MAIL_CLIENT_FACTORY, UnconfiguredGraphMailClientFactory } from './graph-client.factory';
import { SyncRequestsConsumer } from './sync-requests.consumer';
import { SYNC_SETTINGS, type SyncSettings } from './sync.settings';

export interface SyncModuleOptions {
  /**
   * The provider of `GRAPH_MAIL_CLIENT_FACTORY` (a `GraphMailClientFactory`), e.g.
   * `{ provide: GRAPH_MAIL_CLIENT_FACTORY, inject: [...], useFactory: (...) => ... }`. Without one, sync
   * requests are dead-lettered with `GRAPH_NOT_CONFIGURED`.
   */
  graph?: Provider;
}

const repository = <T>(type: new (ds: DataSource) => T): Provider => ({
  provide: type,
  inject: [DataSource],
  useFactory: (ds: DataSource) => new type(ds),
});

/**
 * Mailbox sync: the `sync.requested` consumer and the SyncMailbox use case, and the mirror's write path that the
 * notification rounds share (folder delta, mailbox lock, change log; exported, so the module is global).
 */
@Module({})
export class SyncModule {
  static forRoot(config: ConsumerConfig, options: SyncModuleOptions = {}): DynamicModule {
    const settings: SyncSettings = {
      pageSize: config.sync.pageSize,
      folderParallelism: config.sync.folderParallelism,
      progressEveryPages: config.sync.progressEveryPages,
      progressMinIntervalMs: config.sync.progressMinIntervalMs,
    };
    return {
      module: SyncModule,
      global: true,
      imports: [CqrsModule],
      providers: [
        { provide: SYNC_SETTINGS, useValue: settings },
        options.graph ?? { provide: GRAPH_MAIL_CLIENT_FACTORY, useClass: UnconfiguredGraphMailClientFactory },
        repository(MailAccountSyncRepository),
        repository(MailFoldersRepository),
        repository(MessagesRepository),
        repository(MailChangesRepository),
        AccountCacheVersion,
        AccountFailures,
        FolderDeltaService,
        MailboxLock,
        SubscriptionRequests,
        SyncMailboxHandler,
        SyncRequestsConsumer,
      ],
      exports: [
        SYNC_SETTINGS,
        GRAPH_MAIL_CLIENT_FACTORY,
        MailAccountSyncRepository,
        MailFoldersRepository,
        MessagesRepository,
        MailChangesRepository,
        AccountCacheVersion,
        AccountFailures,
        FolderDeltaService,
        MailboxLock,
      ],
    };
  }
}
