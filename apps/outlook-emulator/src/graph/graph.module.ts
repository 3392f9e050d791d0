import { Module } from '@nestjs/common';
import { IdentityModule } from '../identity/identity.module';
import { AttachmentsRoutes } from './attachments.routes';
import { BatchRoutes } from './batch.routes';
import { GraphController } from './graph.controller';
import { GraphDispatcher } from './graph-dispatcher';
import { MailActionsRoutes } from './mail-actions.routes';
import { MailDelivery } from './mail-delivery';
import { MailFoldersRoutes } from './mail-folders.routes';
import { MeRoutes } from './me.routes';
import { MessageDeltaRoutes } from './message-delta.routes';
import { MessagesRoutes } from './messages.routes';
import { SendMailRoutes } from './send-mail.routes';
import { Throttle } from './throttle';
import { UploadSessions } from './upload-sessions';
import { UploadSessionsController } from './upload-sessions.controller';

@Module({
  imports: [IdentityModule],
  controllers: [GraphController, UploadSessionsController],
  providers: [
    GraphDispatcher,
    Throttle,
    MeRoutes,
    MailFoldersRoutes,
    MessagesRoutes,
    AttachmentsRoutes,
    MailDelivery,
    MailActionsRoutes,
    MessageDeltaRoutes,
    SendMailRoutes,
    BatchRoutes,
    UploadSessions,
  ],
  exports: [GraphDispatcher, Throttle],
})
export class GraphModule {}
