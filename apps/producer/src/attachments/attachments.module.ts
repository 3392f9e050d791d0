import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { AuthModule } from '../auth/auth.module';
import { MailProvidersModule } from '../mail-providers.module';
import { AttachmentsController } from './attachments.controller';
import { MessageOwnerRepository, MessageOwners } from './message-owner.repository';
import { ListAttachmentsQueryHandler } from './queries/list-attachments/list-attachments.query-handler';
import { OpenAttachmentQueryHandler } from './queries/open-attachment/open-attachment.query-handler';

/**
 * Attachments of mirrored messages (issue 6): listed and streamed from the account's provider on demand, through
 * its adapter (the provider registry: for Outlook, Graph with the account's token and the per-mailbox limit).
 * Never stored.
 */
@Module({
  imports: [CqrsModule, AuthModule, MailProvidersModule],
  controllers: [AttachmentsController],
  providers: [
    {
      provide: MessageOwners,
      inject: [DataSource],
      useFactory: (ds: DataSource) => new MessageOwnerRepository(ds),
    },
    ListAttachmentsQueryHandler,
    OpenAttachmentQueryHandler,
  ],
})
export class AttachmentsModule {}
