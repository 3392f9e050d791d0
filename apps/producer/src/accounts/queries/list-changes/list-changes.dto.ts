import { ApiProperty, type ApiQueryOptions } from '@nestjs/swagger';
import { z } from 'zod';
import { wholeNumberParam, type MailChange } from '@email-core/contracts';

export const DEFAULT_CHANGES_LIMIT = 500;
export const MAX_CHANGES_LIMIT = 1000;

/** the query string of `GET /accounts/:id/changes`; unknown parameters are refused, not ignored */
export const listChangesQuerySchema = z
  .object({
    since: wholeNumberParam('since', 0, Number.MAX_SAFE_INTEGER),
    limit: wholeNumberParam('limit', 1, MAX_CHANGES_LIMIT).optional(),
  })
  .strict()
  .transform(({ since, limit }) => ({ since, limit: limit ?? DEFAULT_CHANGES_LIMIT }));

export type ListChangesParams = z.output<typeof listChangesQuerySchema>;

export const LIST_CHANGES_QUERY_DOCS: ApiQueryOptions[] = [
  {
    name: 'since',
    required: true,
    type: Number,
    description:
      'the last change sequence number the client has applied for this account (0 for none); changes after it are returned',
  },
  {
    name: 'limit',
    required: false,
    type: Number,
    description: `at most this many changes (1 to ${MAX_CHANGES_LIMIT}, default ${DEFAULT_CHANGES_LIMIT}); follow \`hasMore\``,
  },
];

export class ChangeDto {
  @ApiProperty({ example: 42, description: "the change's number in the account's sequence" })
  seq!: number;

  @ApiProperty({
    enum: ['created', 'upserted', 'removed'],
    description:
      'created: the message arrived (new mail, not a move); upserted: a message the account had changed, or moved into folderId (under a new id too, as an IMAP move); removed: it left folderId. Treat an unknown kind as upserted.',
  })
  kind!: MailChange['kind'];

  @ApiProperty({ description: 'Graph immutable id of the message' })
  messageId!: string;

  @ApiProperty({ description: 'Graph id of the folder the message is (or was) in' })
  folderId!: string;

  @ApiProperty({ format: 'date-time', description: 'when the change was committed' })
  at!: string;
}

export class ChangesPageDto {
  @ApiProperty({ type: [ChangeDto], description: 'oldest first, gapless from `since + 1`' })
  items!: ChangeDto[];

  @ApiProperty({ example: 57, description: "the account's current change sequence number" })
  latestSeq!: number;

  @ApiProperty({ description: 'more changes follow: ask again with `since` = the last item’s `seq`' })
  hasMore!: boolean;
}
