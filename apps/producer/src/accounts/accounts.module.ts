import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { TokenCipher } from '@email-core/crypto';
import {
  MailAccountsRepository,
  MailAccountTokensRepository,
  MailChangesRepository,
} from '@email-core/database';
import { ImapCredentialVault } from '@email-core/providers';
import { AuthModule } from '../auth/auth.module';
import { MailProvidersModule } from '../mail-providers.module';
import { OutboxModule } from '../outbox/outbox.module';
import { AccountsController } from './accounts.controller';
import { AccountWrites } from './account-writes';
import { CompleteOutlookLinkHandler } from './commands/complete-outlook-link/complete-outlook-link.handler';
import { ImapLinkProbe, MailServerLinkProbe } from './imap-link-probe';
import { LinkImapAccountHandler } from './commands/link-imap-account/link-imap-account.handler';
import { RequestResyncHandler } from './commands/request-resync/request-resync.handler';
import { SetSignatureHandler } from './commands/set-signature/set-signature.handler';
import { StartOutlookLinkHandler } from './commands/start-outlook-link/start-outlook-link.handler';
import { UnlinkAccountHandler } from './commands/unlink-account/unlink-account.handler';
import { LinkUrls } from './link-urls';
import { OAuthStateStore } from './oauth-state.store';
import { ListAccountsQueryHandler } from './queries/list-accounts/list-accounts.query-handler';
import { ListChangesQueryHandler } from './queries/list-changes/list-changes.query-handler';
import { SyncRequestOutbox } from './sync-request-outbox';

/**
 * Linking Outlook mailboxes (authorize + callback) and IMAP/SMTP mailboxes (logins tried, then the settings
 * sealed), listing, unlinking and resyncing them, and their change log (catch-up for dashboards). The Outlook linking slice's OutlookAuthClient and TokenVault come from GraphLibModule,
 * which the application imports once (it is global); everything else reaches an account's provider through the
 * registry (MailProvidersModule).
 */
@Module({
  imports: [CqrsModule, AuthModule, OutboxModule, MailProvidersModule],
  controllers: [AccountsController],
  providers: [
    AccountWrites,
    OAuthStateStore,
    LinkUrls,
    SyncRequestOutbox,
    {
      provide: MailAccountsRepository,
      inject: [DataSource],
      useFactory: (ds: DataSource) => new MailAccountsRepository(ds),
    },
    {
      provide: MailChangesRepository,
      inject: [DataSource],
      useFactory: (ds: DataSource) => new MailChangesRepository(ds),
    },
    { provide: ImapLinkProbe, useClass: MailServerLinkProbe },
    {
      provide: ImapCredentialVault,
      inject: [TokenCipher, MailAccountTokensRepository],
      useFactory: (cipher: TokenCipher, repo: MailAccountTokensRepository) =>
        new ImapCredentialVault(cipher, repo),
    },
    StartOutlookLinkHandler,
    CompleteOutlookLinkHandler,
    SetSignatureHandler,
    LinkImapAccountHandler,
    UnlinkAccountHandler,
    RequestResyncHandler,
    ListAccountsQueryHandler,
    ListChangesQueryHandler,
  ],
})
export class AccountsModule {}
