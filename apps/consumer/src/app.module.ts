import { Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import type { ConsumerConfig } from '@email-core/config';
import { GraphLibModule } from '@email-core/graph';
import { InfrastructureModule } from '@email-core/health';
import type { MailProvider } from '@email-core/providers';
import { CommandsModule, type CommandsModuleOptions } from './commands/commands.module';
import { ImapIdleModule, type ImapIdleModuleOptions } from './imap-idle/imap-idle.module';
import { MailerModule, type MailerModuleOptions } from './mailer/mailer.module';
import { MessagingModule } from './messaging/messaging.module';
import { MirrorModule } from './mirror/mirror.module';
import type { RoundSettings } from './mirror/mirror.settings';
import { PokesModule } from './pokes/pokes.module';
import { ReconcileModule } from './reconcile/reconcile.module';
import { SubscriptionsModule } from './subscriptions/subscriptions.module';
import { SyncModule } from './sync/sync.module';

export interface AppModuleOptions {
  /**
   * Adapters to register besides the Outlook adapter (or instead of it, under the name 'outlook'): tests give an
   * in-memory adapter, or an Outlook adapter whose tokens come from the emulator.
   */
  mailProviders?: MailProvider[];
  rounds?: Partial<RoundSettings>;
  commands?: CommandsModuleOptions;
  mailer?: MailerModuleOptions;
  imapIdle?: ImapIdleModuleOptions;
}

/**
 * The consumer's composition root: infrastructure, Microsoft identity + Graph (for the Outlook adapter), the mirror
 * core with the provider registry, and the features on top of it, each handed the one mirror module.
 */
@Module({})
export class AppModule {
  static forRoot(config: ConsumerConfig, options: AppModuleOptions = {}): DynamicModule {
    const messaging = MessagingModule.forRoot(config);
    const mirror = MirrorModule.forRoot(config, {
      messaging,
      mailProviders: options.mailProviders,
      rounds: options.rounds,
    });
    return {
      module: AppModule,
      imports: [
        InfrastructureModule.forRoot(config, 'consumer'),
        GraphLibModule.forRoot({
          microsoft: config.microsoft,
          encryptionKeys: config.tokenEncryptionKeys,
          maxConcurrencyPerMailbox: config.graphMaxConcurrencyPerMailbox,
        }),
        CqrsModule.forRoot(),
        messaging,
        mirror,
        SyncModule.forRoot(mirror),
        SubscriptionsModule.forRoot(config, mirror),
        PokesModule.forRoot(mirror),
        ReconcileModule.forRoot(config, mirror),
        CommandsModule.forRoot(config, mirror, options.commands),
        MailerModule.forRoot(config, messaging, options.mailer),
        ImapIdleModule.forRoot(config, mirror, options.imapIdle),
      ],
    };
  }
}
