import { ApiProperty, type ApiQueryOptions } from '@nestjs/swagger';
import { z } from 'zod';
import type { DeadLetterView } from '../../dead-letters/dead-letter-view';

export const MAX_DEAD_LETTER_LIMIT = 500;

export const listDeadLettersQuerySchema = z
  .object({ limit: z.coerce.number().int().min(1).max(MAX_DEAD_LETTER_LIMIT).default(50) })
  .strict();
export type ListDeadLettersParams = z.infer<typeof listDeadLettersQuerySchema>;

export const LIST_DEAD_LETTERS_QUERY_DOCS: ApiQueryOptions[] = [
  {
    name: 'limit',
    required: false,
    schema: { type: 'integer', minimum: 1, maximum: MAX_DEAD_LETTER_LIMIT, default: 50 },
    description: 'how many of the newest dead letters',
  },
];

export class DeadLetterDto implements DeadLetterView {
  @ApiProperty({ description: 'partition of the dead-letter topic' })
  partition!: number;

  @ApiProperty({ description: 'offset in that partition; with `partition`, what a replay names' })
  offset!: number;

  @ApiProperty({ description: 'the message key: the account id' })
  key!: string;

  @ApiProperty({ format: 'date-time', description: 'when it was written to the dead-letter topic' })
  timestamp!: string;

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'the topic it failed on (full name); null when the message is not a failure envelope',
  })
  originalTopic!: string | null;

  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'deliveries that failed before it was dead-lettered',
  })
  attempts!: number | null;

  @ApiProperty({ description: 'the last error: name and message, never a stack' })
  error!: string;

  @ApiProperty({ type: String, nullable: true, format: 'date-time' })
  failedAt!: string | null;

  @ApiProperty({
    description:
      'the original message value (JSON text as sent, or raw text when it was not JSON), token-like fields redacted, at most 8,192 characters',
  })
  payload!: string;

  @ApiProperty({ description: 'true when `payload` was cut at 8,192 characters' })
  payloadTruncated!: boolean;

  @ApiProperty({ description: 'false when it names no work topic of the project (then replay answers 409)' })
  replayable!: boolean;

  @ApiProperty({
    type: String,
    nullable: true,
    format: 'date-time',
    description: 'when it was last replayed',
  })
  replayedAt!: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description:
      "the failed work's correlation id (its `x-correlation-id` header): every log line of that work, from the HTTP request or webhook that started it to the consumer's failed attempts, carries it; a replay carries it again",
  })
  correlationId!: string | null;
}

export class DeadLetterListDto {
  @ApiProperty({ description: 'the dead-letter topic (full name)' })
  topic!: string;

  @ApiProperty({ format: 'date-time' })
  fetchedAt!: string;

  @ApiProperty({ type: () => [DeadLetterDto], description: 'newest first' })
  items!: DeadLetterDto[];
}
