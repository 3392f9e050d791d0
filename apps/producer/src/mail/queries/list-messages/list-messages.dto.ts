import { ApiProperty, type ApiQueryOptions } from '@nestjs/swagger';
import { z } from 'zod';
import {
  decodeMessageCursor,
  type MessageCursorKey,
  type MessageListFilter,
  type MessagePageView,
  type MessageSummaryView,
  type RecipientView,
} from '@email-core/database';
import {
  hasNoControlCharacters,
  isoInstant,
  isStorableInstant,
  wholeNumberParam,
} from '@email-core/contracts';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

const flag = z
  .enum(['true', 'false', '1', '0'], { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1');

/** a page cursor of the message (or conversation) list */
export const cursorParam = z
  .string()
  .max(4096)
  .transform((raw, ctx) => {
    const key = decodeMessageCursor(raw);
    // what the cursor names goes to Postgres too: the same limits as a date parameter, and no NUL in the id
    if (!key || !isStorableInstant(key.receivedAt) || !hasNoControlCharacters(key.id)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'is not a cursor this API returned' });
      return z.NEVER;
    }
    return key;
  });

/** text that means nothing once trimmed counts as absent */
const text = (max: number) =>
  z
    .string()
    .max(max)
    .transform((s) => s.trim() || undefined);

/** the query string of `GET /accounts/:accountId/messages`; unknown parameters are refused, not ignored */
export const listMessagesQuerySchema = z
  .object({
    folderId: z.string().min(1).max(1024).optional(),
    unread: flag.optional(),
    flagged: flag.optional(),
    hasAttachments: flag.optional(),
    from: text(320).optional(),
    after: isoInstant().optional(),
    before: isoInstant().optional(),
    q: text(500).optional(),
    limit: wholeNumberParam('limit', 1, MAX_PAGE_SIZE).optional(),
    cursor: cursorParam.optional(),
  })
  .strict()
  .refine(
    (p) => p.after === undefined || p.before === undefined || Date.parse(p.after) < Date.parse(p.before),
    {
      message: 'after must be earlier than before',
      path: ['after'],
    },
  )
  .transform(({ limit, cursor, ...filter }): ListMessagesParams => {
    const clean: MessageListFilter = {};
    for (const [k, v] of Object.entries(filter) as Array<[keyof MessageListFilter, unknown]>) {
      if (v !== undefined) Object.assign(clean, { [k]: v });
    }
    return { filter: clean, limit: limit ?? DEFAULT_PAGE_SIZE, cursor };
  });

export interface ListMessagesParams {
  filter: MessageListFilter;
  limit: number;
  cursor?: MessageCursorKey;
}

const flagDoc = (name: string, description: string): ApiQueryOptions => ({
  name,
  required: false,
  type: Boolean,
  description,
});

/** the OpenAPI description of the same query string */
export const LIST_MESSAGES_QUERY_DOCS: ApiQueryOptions[] = [
  { name: 'folderId', required: false, type: String, description: 'only this folder (not its subfolders)' },
  flagDoc('unread', 'true: unread only; false: read only'),
  flagDoc('flagged', "true: flag status 'flagged' only; false: not flagged or completed"),
  flagDoc('hasAttachments', 'true: with attachments only; false: without'),
  {
    name: 'from',
    required: false,
    type: String,
    description:
      "text in the sender's name or address, each of its words from the start of a word there ('car' finds Carol, 'contoso.example' everyone at contoso.example)",
  },
  {
    name: 'after',
    required: false,
    type: String,
    format: 'date-time',
    description: 'received at or after (ISO 8601)',
  },
  {
    name: 'before',
    required: false,
    type: String,
    format: 'date-time',
    description: 'received before (ISO 8601)',
  },
  {
    name: 'q',
    required: false,
    type: String,
    description:
      'full-text search over subject, sender and body (web search syntax: words, "a phrase", -excluded, or)',
  },
  {
    name: 'limit',
    required: false,
    type: Number,
    minimum: 1,
    maximum: MAX_PAGE_SIZE,
    description: `page size (default ${DEFAULT_PAGE_SIZE})`,
  },
  {
    name: 'cursor',
    required: false,
    type: String,
    description: 'the nextCursor of the previous page (opaque)',
  },
];

export class RecipientDto implements RecipientView {
  @ApiProperty()
  name!: string;

  @ApiProperty()
  address!: string;
}

export class MessageSummaryDto implements MessageSummaryView {
  @ApiProperty({ description: 'Graph immutable message id' })
  id!: string;

  @ApiProperty()
  folderId!: string;

  @ApiProperty()
  subject!: string;

  @ApiProperty({
    type: () => RecipientDto,
    nullable: true,
    description: 'null when there is no sender (drafts)',
  })
  from!: RecipientDto | null;

  @ApiProperty({ type: () => [RecipientDto] })
  toRecipients!: RecipientDto[];

  @ApiProperty({ type: () => [RecipientDto] })
  ccRecipients!: RecipientDto[];

  @ApiProperty()
  bodyPreview!: string;

  @ApiProperty({ format: 'date-time' })
  receivedAt!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  sentAt!: string | null;

  @ApiProperty()
  isRead!: boolean;

  @ApiProperty({ enum: ['notFlagged', 'flagged', 'complete'] })
  flagStatus!: MessageSummaryView['flagStatus'];

  @ApiProperty({ enum: ['low', 'normal', 'high'] })
  importance!: MessageSummaryView['importance'];

  @ApiProperty()
  hasAttachments!: boolean;

  @ApiProperty({ type: String, nullable: true })
  conversationId!: string | null;
}

export class MessagePageDto implements MessagePageView {
  @ApiProperty({ type: () => [MessageSummaryDto], description: 'newest first' })
  items!: MessageSummaryDto[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'pass as `cursor` for the next page; null on the last page',
  })
  nextCursor!: string | null;
}
