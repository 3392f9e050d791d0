import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { AuthModule } from '../auth/auth.module';
import { AttachmentsController } from './attachments.controller';
import { GraphAttachmentsFactory } from './graph-attachments.factory';
import { MessageOwnerRepository } from './message-owner.repository';
import { ListAttachmentsQueryHandler } from './queries/list-attachments/list-attachments.query-handler';
import { OpenAttachmentQueryHandler } from './queries/open-attachment/open-attachment.query-handler';

/**
 * Attachments of mirrored messages (issue 6): listed and streamed from Graph on demand, through the account's
 * token (TokenVault, from the global GraphLibModule) and the per-mailbox limit. Never stored.
 */
@Module({
  imports: [CqrsModule, AuthModule],
  controllers: [AttachmentsController],
  providers: [
    {
      provide: MessageOwnerRepository,
      inject: [DataSource],
      useFactory: (ds: DataSource) => new MessageOwnerRepository(ds),
    },
    GraphAttachmentsFactory,
    ListAttachmentsQueryHandler,
    OpenAttachmentQueryHandler,
  ],
})
export class AttachmentsModule {}
