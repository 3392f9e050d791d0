import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import type { ConsumerConfig } from '@email-core/config';
import { MailCommandsRepository } from '@email-core/database';
import { GraphClientFactory, GraphMailActionsClient } from '@email-core/graph';
import { MessageActions } from './actions/message-actions';
import { OutgoingMail } from './actions/outgoing-mail';
import { CommandLock } from './command-lock';
import { CommandStatusEvents } from './command-status';
import { COMMAND_SETTINGS, type CommandSettings } from './commands.settings';
import { ExecuteMailCommandHandler } from './execute-mail-command/execute-mail-command.handler';
import { MAIL_ACTIONS_GRAPH_FACTORY, type MailActionsGraphFactory } from './mail-actions-graph';
import { MailCommandsConsumer } from './mail-commands.consumer';
import { MirrorRound } from './mirror-round';

export interface CommandsModuleOptions {
  /** the provider of `MAIL_ACTIONS_GRAPH_FACTORY`; by default Graph clients of libs/graph (tokens from the vault) */
  graph?: Provider;
  settings?: Partial<CommandSettings>;
}

/** Graph clients that share the sync's middleware: the vault's token, the per-mailbox limit, Retry-After. */
const vaultGraph: Provider = {
  provide: MAIL_ACTIONS_GRAPH_FACTORY,
  inject: [GraphClientFactory],
  useFactory: (clients: GraphClientFactory): MailActionsGraphFactory => ({
    forAccount: (accountId) => new GraphMailActionsClient(clients.forAccount(accountId).sdk),
  }),
};

/**
 * Mail commands (issue 6): the `mail.command` consumer (group `email-core-mail-commands`) and the
 * ExecuteMailCommand use case, which writes to Outlook through Graph and brings the mirror along with
 * ApplyNotifications (NotificationsModule) on the sync's write path (SyncModule, global).
 */
@Module({})
export class CommandsModule {
  static forRoot(config: ConsumerConfig, options: CommandsModuleOptions = {}): DynamicModule {
    const settings: CommandSettings = {
      concurrentPartitions: config.notifications.concurrentPartitions,
      idConcurrency: 4,
      lockWaitMs: 10_000,
      ...options.settings,
    };
    return {
      module: CommandsModule,
      imports: [CqrsModule],
      providers: [
        { provide: COMMAND_SETTINGS, useValue: settings },
        options.graph ?? vaultGraph,
        {
          provide: MailCommandsRepository,
          inject: [DataSource],
          useFactory: (ds: DataSource) => new MailCommandsRepository(ds),
        },
        MessageActions,
        OutgoingMail,
        MirrorRound,
        CommandStatusEvents,
        CommandLock,
        ExecuteMailCommandHandler,
        MailCommandsConsumer,
      ],
    };
  }
}
