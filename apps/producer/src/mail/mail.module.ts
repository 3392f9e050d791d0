import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { AuthModule } from '../auth/auth.module';
import { MailController } from './mail.controller';
import { MailQueryCache } from './mail-query-cache';
import { MailReads } from './mail-reads';
import { GetConversationQueryHandler } from './queries/get-conversation/get-conversation.query-handler';
import { GetMessageQueryHandler } from './queries/get-message/get-message.query-handler';
import { ListFoldersQueryHandler } from './queries/list-folders/list-folders.query-handler';
import { ListConversationsQueryHandler } from './queries/list-conversations/list-conversations.query-handler';
import { ListMessagesQueryHandler } from './queries/list-messages/list-messages.query-handler';

/**
 * Reads of the mail mirror (issue 4, architecture data flow 6): folders, message pages, one message. Query
 * handlers read Postgres through MailReadRepository on the read side (MailReads: the replica when it has the
 * account's last write, else the primary; issue 21) and cache results in the Redis Cluster (MailQueryCache).
 * CqrsModule is imported by class (not forRoot) so feature modules that each import it share one bus.
 */
@Module({
  imports: [CqrsModule, AuthModule],
  controllers: [MailController],
  providers: [
    MailReads,
    MailQueryCache,
    ListFoldersQueryHandler,
    ListMessagesQueryHandler,
    GetMessageQueryHandler,
    ListConversationsQueryHandler,
    GetConversationQueryHandler,
  ],
})
export class MailModule {}
