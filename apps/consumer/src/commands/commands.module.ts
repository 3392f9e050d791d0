import { Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import type { ConsumerConfig } from '@email-core/config';
import { MailCommandBatchesRepository, MailCommandsRepository } from '@email-core/database';
import { DraftActions } from './actions/draft-actions';
import { MessageActions } from './actions/message-actions';
import { OutgoingMail } from './actions/outgoing-mail';
import { CommandLock } from './command-lock';
import { CommandStatusEvents } from './command-status';
import { COMMAND_SETTINGS, type CommandSettings } from './commands.settings';
import { ExecuteMailCommandHandler } from './execute-mail-command/execute-mail-command.handler';
import { MailCommandsConsumer } from './mail-commands.consumer';
import { MirrorRound } from './mirror-round';

export interface CommandsModuleOptions {
  settings?: Partial<CommandSettings>;
}

/**
 * Mail commands (issue 6): the `mail.command` consumer (group `email-core-mail-commands`) and the
 * ExecuteMailCommand use case, which acts through the account's provider adapter (the registry of `mirror`) and
 * brings the mirror along with a round of the mirror core (a poke of source 'action').
 */
@Module({})
export class CommandsModule {
  static forRoot(
    config: ConsumerConfig,
    mirror: DynamicModule,
    options: CommandsModuleOptions = {},
  ): DynamicModule {
    const settings: CommandSettings = {
      concurrentPartitions: config.notifications.concurrentPartitions,
      idConcurrency: 4,
      lockWaitMs: 10_000,
      ...options.settings,
    };
    return {
      module: CommandsModule,
      imports: [CqrsModule, mirror],
      providers: [
        { provide: COMMAND_SETTINGS, useValue: settings },
        {
          provide: MailCommandsRepository,
          inject: [DataSource],
          useFactory: (ds: DataSource) => new MailCommandsRepository(ds),
        },
        {
          provide: MailCommandBatchesRepository,
          inject: [DataSource],
          useFactory: (ds: DataSource) => new MailCommandBatchesRepository(ds),
        },
        MessageActions,
        OutgoingMail,
        DraftActions,
        MirrorRound,
        CommandStatusEvents,
        CommandLock,
        ExecuteMailCommandHandler,
        MailCommandsConsumer,
      ],
    };
  }
}
