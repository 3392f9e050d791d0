import { Module } from '@nestjs/common';
import type { ProducerConfig } from '@email-core/config';
import {
  ImapProvider,
  imapProvider,
  OutlookProvider,
  outlookProvider,
  providerRegistry,
  ProviderRegistry,
} from '@email-core/providers';
import { PRODUCER_CONFIG } from './config.module';

/**
 * The API's mail providers: one adapter per provider (Outlook's from the GraphLibModule the application imports; IMAP's over the same sealed columns, with the
 * host policy of `config.imap`),
 * in the registry every use case picks an account's adapter from (by `mail_accounts.provider`). Building the
 * registry fails the boot when a provider the product knows has no adapter.
 */
@Module({
  providers: [
    outlookProvider,
    imapProvider(PRODUCER_CONFIG, (config: ProducerConfig) => config.imap),
    providerRegistry([OutlookProvider, ImapProvider]),
  ],
  exports: [ProviderRegistry],
})
export class MailProvidersModule {}
