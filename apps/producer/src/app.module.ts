import { Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import type { ProducerConfig } from '@email-core/config';
import { GraphLibModule } from '@email-core/graph';
import { InfrastructureModule } from '@email-core/health';
import { AccountsModule } from './accounts/accounts.module';
import { AttachmentsModule } from './attachments/attachments.module';
import { AuthModule } from './auth/auth.module';
import { CommandsModule } from './commands/commands.module';
import { ProducerConfigModule } from './config.module';
import { DevModule } from './dev/dev.module';
import { GraphWebhookModule } from './graph-webhook/graph-webhook.module';
import { MailModule } from './mail/mail.module';
import { ProducerMetricsModule } from './metrics/producer-metrics.module';
import { OpsModule } from './ops/ops.module';
import { OutboxModule } from './outbox/outbox.module';
import { RealtimeModule } from './realtime/realtime.module';

@Module({})
export class AppModule {
  static forRoot(config: ProducerConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ProducerConfigModule.forRoot(config),
        // one CommandBus and QueryBus for the process; feature modules import CqrsModule by class
        CqrsModule.forRoot(),
        InfrastructureModule.forRoot(config, 'producer', { readReplica: true }),
        ProducerMetricsModule,
        GraphLibModule.forRoot({ microsoft: config.microsoft, encryptionKeys: config.tokenEncryptionKeys }),
        AuthModule,
        MailModule,
        AccountsModule,
        OutboxModule,
        RealtimeModule,
        GraphWebhookModule,
        CommandsModule,
        AttachmentsModule,
        OpsModule,
        DevModule,
      ],
    };
  }
}
