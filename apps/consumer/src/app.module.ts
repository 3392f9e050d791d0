import { Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import type { ConsumerConfig } from '@email-core/config';
import { GraphClientFactory, GraphLibModule } from '@email-core/graph';
import { InfrastructureModule } from '@email-core/health';
import { CommandsModule, type CommandsModuleOptions } from './commands/commands.module';
import { MessagingModule } from './messaging/messaging.module';
import { NotificationsModule } from './notifications/notifications.module';
import { ReconcileModule } from './reconcile/reconcile.module';
import { GRAPH_MAIL_CLIENT_FACTORY } from './sync/graph-client.factory';
import { SubscriptionsModule } from './subscriptions/subscriptions.module';
import { SyncModule, type SyncModuleOptions } from './sync/sync.module';

@Module({})
export class AppModule {
  static forRoot(
    config: ConsumerConfig,
    options: { sync?: SyncModuleOptions; commands?: CommandsModuleOptions } = {},
  ): DynamicModule {
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
        MessagingModule.forRoot(config),
        SyncModule.forRoot(config, {
          ...options.sync,
          // Microsoft (or the emulator) through libs/graph, unless a test supplies its own mailbox
          graph: options.sync?.graph ?? {
            provide: GRAPH_MAIL_CLIENT_FACTORY,
            useExisting: GraphClientFactory,
          },
        }),
        SubscriptionsModule.forRoot(config),
        NotificationsModule.forRoot(config),
        ReconcileModule.forRoot(config),
        CommandsModule.forRoot(config, options.commands),
      ],
    };
  }
}
