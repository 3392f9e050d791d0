import { ApiProperty, type SchemaObject } from '@nestjs/swagger';
import { z } from 'zod';

export const replayDeadLetterSchema = z
  .object({
    partition: z.number().int().min(0),
    offset: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    force: z.boolean().default(false),
  })
  .strict();
export type ReplayDeadLetterBody = z.infer<typeof replayDeadLetterSchema>;

export const replayDeadLetterOpenApi: SchemaObject = {
  type: 'object',
  required: ['partition', 'offset'],
  additionalProperties: false,
  properties: {
    partition: { type: 'integer', minimum: 0, description: 'partition of the dead-letter topic' },
    offset: { type: 'integer', minimum: 0, description: 'offset of the dead letter in that partition' },
    force: {
      type: 'boolean',
      default: false,
      description: 'replay even if it was replayed before (otherwise 409 ALREADY_REPLAYED)',
    },
  },
};

export class ReplayResultDto {
  @ApiProperty()
  partition!: number;

  @ApiProperty()
  offset!: number;

  @ApiProperty({ description: 'the topic the message was published to again (full name)' })
  originalTopic!: string;

  @ApiProperty({ description: 'its key (the account id), as before' })
  key!: string;

  @ApiProperty({ format: 'date-time' })
  replayedAt!: string;

  @ApiProperty({
    type: String,
    nullable: true,
    format: 'date-time',
    description: 'with `force`: when it had been replayed before',
  })
  previouslyReplayedAt!: string | null;
}
