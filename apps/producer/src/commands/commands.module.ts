import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import {
  CommandUploadsRepository,
  MailAccountsRepository,
  MailCommandBatchesRepository,
  MailCommandsRepository,
} from '@email-core/database';
import { AuthModule } from '../auth/auth.module';
import { OutboxModule } from '../outbox/outbox.module';
import { CommandBatchesController } from './command-batches.controller';
import { CommandChecksRepository } from './command-checks.repository';
import { CommandsController } from './commands.controller';
import { AppendUploadChunkHandler } from './commands/append-upload-chunk/append-upload-chunk.handler';
import { CreateUploadSessionHandler } from './commands/create-upload-session/create-upload-session.handler';
import { CreateUploadHandler } from './commands/create-upload/create-upload.handler';
import { DeleteUploadHandler } from './commands/delete-upload/delete-upload.handler';
import { SubmitCommandBatchHandler } from './commands/submit-command-batch/submit-command-batch.handler';
import { SubmitMailCommandHandler } from './commands/submit-mail-command/submit-mail-command.handler';
import { MailCommandOutbox } from './mail-command-outbox';
import { GetCommandBatchQueryHandler } from './queries/get-command-batch/get-command-batch.query-handler';
import { GetCommandQueryHandler } from './queries/get-command/get-command.query-handler';
import { GetUploadSessionQueryHandler } from './queries/get-upload-session/get-upload-session.query-handler';
import { UploadsController } from './uploads.controller';

/**
 * Mail commands, the API side (issue 6, architecture data flow 8): `POST /commands` validates and stores a
 * command with its `mail.command` outbox row; `GET /commands/:id` reads its status; `POST /uploads` stores an
 * attachment ahead of its command. The consumer's worker executes commands; nothing here calls Graph.
 */
@Module({
  imports: [CqrsModule, AuthModule, OutboxModule],
  controllers: [CommandsController, CommandBatchesController, UploadsController],
  providers: [
    {
      provide: MailAccountsRepository,
      inject: [DataSource],
      useFactory: (ds: DataSource) => new MailAccountsRepository(ds),
    },
    {
      provide: MailCommandsRepository,
      inject: [DataSource],
      useFactory: (ds: DataSource) => new MailCommandsRepository(ds),
    },
    {
      provide: CommandUploadsRepository,
      inject: [DataSource],
      useFactory: (ds: DataSource) => new CommandUploadsRepository(ds),
    },
    {
      provide: MailCommandBatchesRepository,
      inject: [DataSource],
      useFactory: (ds: DataSource) => new MailCommandBatchesRepository(ds),
    },
    {
      provide: CommandChecksRepository,
      inject: [DataSource],
      useFactory: (ds: DataSource) => new CommandChecksRepository(ds),
    },
    MailCommandOutbox,
    SubmitMailCommandHandler,
    CreateUploadHandler,
    CreateUploadSessionHandler,
    AppendUploadChunkHandler,
    GetUploadSessionQueryHandler,
    DeleteUploadHandler,
    GetCommandQueryHandler,
    SubmitCommandBatchHandler,
    GetCommandBatchQueryHandler,
  ],
})
export class CommandsModule {}
