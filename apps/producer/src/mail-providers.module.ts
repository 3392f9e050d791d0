import { Module } from '@nestjs/common';
import { OutlookProvider, outlookProvider, providerRegistry, ProviderRegistry } from '@email-core/providers';

/**
 * The API's mail providers: one adapter per provider (Outlook's from the GraphLibModule the application imports),
 * in the registry every use case picks an account's adapter from (by `mail_accounts.provider`). Building the
 * registry fails the boot when a provider the product knows has no adapter.
 */
@Module({
  providers: [outlookProvider, providerRegistry([OutlookProvider])],
  exports: [ProviderRegistry],
})
export class MailProvidersModule {}
