import { ApiProperty, type ApiQueryOptions } from '@nestjs/swagger';
import { z } from 'zod';
import {
  CONVERSATION_IDS_LIMIT,
  type ConversationPageView,
  type ConversationSummaryView,
  type MessageCursorKey,
} from '@email-core/database';
import { wholeNumberParam } from '@email-core/contracts';
import {
  cursorParam,
  DEFAULT_PAGE_SIZE,
  MAX_PAGE_SIZE,
  RecipientDto,
} from '../list-messages/list-messages.dto';

/** the query string of `GET /accounts/:accountId/conversations`; unknown parameters are refused, not ignored */
export const listConversationsQuerySchema = z
  .object({
    folderId: z.string().min(1).max(1024),
    limit: wholeNumberParam('limit', 1, MAX_PAGE_SIZE).optional(),
    cursor: cursorParam.optional(),
  })
  .strict()
  .transform(({ folderId, limit, cursor }): ListConversationsParams => ({
    folderId,
    limit: limit ?? DEFAULT_PAGE_SIZE,
    cursor,
  }));

export interface ListConversationsParams {
  folderId: string;
  limit: number;
  cursor?: MessageCursorKey;
}

/** the OpenAPI description of the same query string */
export const LIST_CONVERSATIONS_QUERY_DOCS: ApiQueryOptions[] = [
  { name: 'folderId', required: true, type: String, description: 'the folder whose conversations to list' },
  {
    name: 'limit',
    required: false,
    type: Number,
    minimum: 1,
    maximum: MAX_PAGE_SIZE,
    description: `conversations per page (default ${DEFAULT_PAGE_SIZE})`,
  },
  {
    name: 'cursor',
    required: false,
    type: String,
    description: 'the nextCursor of the previous page (opaque)',
  },
];

export class ConversationSummaryDto implements ConversationSummaryView {
  @ApiProperty({ description: "the conversation's id (the conversationId of its messages)" })
  id!: string;

  @ApiProperty()
  folderId!: string;

  @ApiProperty({ description: "the latest message's subject" })
  subject!: string;

  @ApiProperty({ description: "the latest message's preview" })
  bodyPreview!: string;

  @ApiProperty({ format: 'date-time', description: 'when the latest message in this folder arrived' })
  receivedAt!: string;

  @ApiProperty()
  latestMessageId!: string;

  @ApiProperty({ description: 'messages of the conversation in this folder' })
  messageCount!: number;

  @ApiProperty()
  unreadCount!: number;

  @ApiProperty({ description: 'any of its messages here flagged' })
  flagged!: boolean;

  @ApiProperty()
  hasAttachments!: boolean;

  @ApiProperty({
    type: () => [RecipientDto],
    description: 'distinct senders here, first to write first (max 10)',
  })
  participants!: RecipientDto[];

  @ApiProperty({
    type: [String],
    description: `ids of its messages in this folder, newest first (max ${CONVERSATION_IDS_LIMIT}): what an action on the conversation applies to`,
  })
  messageIds!: string[];
}

export class ConversationPageDto implements ConversationPageView {
  @ApiProperty({ type: () => [ConversationSummaryDto], description: 'newest latest message first' })
  items!: ConversationSummaryDto[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'pass as `cursor` for the next page; null on the last page',
  })
  nextCursor!: string | null;
}
