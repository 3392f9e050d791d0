import { applyDecorators, Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import {
  ApiBearerAuth,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import type { AuthUser } from '../auth/auth-user';
import { CurrentUser } from '../auth/current-user.decorator';
import { JwtAuthGuard } from '../auth/jwt-auth.guard';
import { ZodValidationPipe } from '../http/zod-validation.pipe';
import { AccountIdPipe } from './mail-errors';
import { ConversationDto } from './queries/get-conversation/get-conversation.dto';
import { GetConversationQuery } from './queries/get-conversation/get-conversation.query';
import { MessageDetailDto } from './queries/get-message/get-message.dto';
import { GetMessageQuery } from './queries/get-message/get-message.query';
import { FolderListDto } from './queries/list-folders/list-folders.dto';
import { ListFoldersQuery } from './queries/list-folders/list-folders.query';
import {
  ConversationPageDto,
  LIST_CONVERSATIONS_QUERY_DOCS,
  listConversationsQuerySchema,
  type ListConversationsParams,
} from './queries/list-conversations/list-conversations.dto';
import { ListConversationsQuery } from './queries/list-conversations/list-conversations.query';
import {
  LIST_MESSAGES_QUERY_DOCS,
  listMessagesQuerySchema,
  MessagePageDto,
  type ListMessagesParams,
} from './queries/list-messages/list-messages.dto';
import { ListMessagesQuery } from './queries/list-messages/list-messages.query';

/** The mirror, read: each route validates, dispatches one query on the QueryBus and returns its result. */
@ApiTags('mail')
@ApiBearerAuth()
@ApiParam({ name: 'accountId', format: 'uuid', description: 'one of your linked accounts' })
@ApiUnauthorizedResponse({ description: 'UNAUTHENTICATED: no valid access token' })
@UseGuards(JwtAuthGuard)
@Controller('accounts/:accountId')
export class MailController {
  constructor(private readonly queries: QueryBus) {}

  @Get('folders')
  @ApiOperation({ summary: "An account's folders in tree order, with total and unread counts" })
  @ApiOkResponse({ type: FolderListDto })
  @ApiNotFoundResponse({ description: 'ACCOUNT_NOT_FOUND' })
  listFolders(@CurrentUser() user: AuthUser, @Param('accountId', AccountIdPipe) accountId: string) {
    return this.queries.execute(new ListFoldersQuery(user.id, accountId));
  }

  @Get('messages')
  @ApiOperation({
    summary: 'Messages newest first, keyset-paginated, with filters and full-text search',
    description: 'Filters combine with AND. Follow `nextCursor` until it is null to walk every match once.',
  })
  @applyDecorators(...LIST_MESSAGES_QUERY_DOCS.map((doc) => ApiQuery(doc)))
  @ApiOkResponse({ type: MessagePageDto })
  @ApiNotFoundResponse({ description: 'ACCOUNT_NOT_FOUND, FOLDER_NOT_FOUND' })
  listMessages(
    @CurrentUser() user: AuthUser,
    @Param('accountId', AccountIdPipe) accountId: string,
    @Query(new ZodValidationPipe(listMessagesQuerySchema)) params: ListMessagesParams,
  ) {
    return this.queries.execute(new ListMessagesQuery(user.id, accountId, params));
  }

  @Get('conversations')
  @ApiOperation({
    summary: "A folder's conversations, newest first by their latest message there, keyset-paginated",
    description:
      'One row per conversation in the folder: its count, unread count, flag, senders and latest message, and the ids of its messages in the folder (what an action on the conversation applies to). Follow `nextCursor` until it is null.',
  })
  @applyDecorators(...LIST_CONVERSATIONS_QUERY_DOCS.map((doc) => ApiQuery(doc)))
  @ApiOkResponse({ type: ConversationPageDto })
  @ApiNotFoundResponse({ description: 'ACCOUNT_NOT_FOUND, FOLDER_NOT_FOUND' })
  listConversations(
    @CurrentUser() user: AuthUser,
    @Param('accountId', AccountIdPipe) accountId: string,
    @Query(new ZodValidationPipe(listConversationsQuerySchema)) params: ListConversationsParams,
  ) {
    return this.queries.execute(new ListConversationsQuery(user.id, accountId, params));
  }

  @Get('conversations/:conversationId')
  @ApiOperation({ summary: "A whole conversation's messages across folders, oldest first" })
  @ApiParam({ name: 'conversationId', description: "a conversation's id, URL-encoded" })
  @ApiOkResponse({ type: ConversationDto })
  @ApiNotFoundResponse({ description: 'ACCOUNT_NOT_FOUND, CONVERSATION_NOT_FOUND' })
  getConversation(
    @CurrentUser() user: AuthUser,
    @Param('accountId', AccountIdPipe) accountId: string,
    @Param('conversationId') conversationId: string,
  ) {
    return this.queries.execute(new GetConversationQuery(user.id, accountId, conversationId));
  }

  @Get('messages/:messageId')
  @ApiOperation({ summary: 'One message with its full body' })
  @ApiParam({ name: 'messageId', description: 'Graph immutable id, URL-encoded' })
  @ApiOkResponse({ type: MessageDetailDto })
  @ApiNotFoundResponse({ description: 'ACCOUNT_NOT_FOUND, MESSAGE_NOT_FOUND' })
  getMessage(
    @CurrentUser() user: AuthUser,
    @Param('accountId', AccountIdPipe) accountId: string,
    @Param('messageId') messageId: string,
  ) {
    return this.queries.execute(new GetMessageQuery(user.id, accountId, messageId));
  }
}
