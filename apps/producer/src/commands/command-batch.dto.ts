import { ApiProperty, type SchemaObject } from '@nestjs/swagger';
import {
  BATCH_ACTIONS,
  MAIL_COMMAND_STATUSES,
  MAX_BATCH_MESSAGES,
  type BatchAction,
  type MailCommandStatus,
} from '@email-core/contracts';
import type { CommandBatchView } from '@email-core/database';

export class BatchCountsDto {
  @ApiProperty() queued!: number;
  @ApiProperty() sent!: number;
  @ApiProperty() done!: number;
  @ApiProperty() failed!: number;
}

/** A batch as the API shows it: its combined status and its commands counted by status (never the ids). */
export class CommandBatchDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'uuid' })
  accountId!: string;

  @ApiProperty({ enum: BATCH_ACTIONS })
  action!: BatchAction;

  @ApiProperty({
    enum: MAIL_COMMAND_STATUSES,
    description:
      '`queued` (no command started), `sent` (under way), `done` (every command done), `failed` (every command ' +
      'finished, at least one failed: see `reasonCode`)',
  })
  status!: MailCommandStatus;

  @ApiProperty({ description: 'how many messages the batch acts on' })
  messages!: number;

  @ApiProperty({ description: 'in how many commands (500 messages each)' })
  commands!: number;

  @ApiProperty({ type: BatchCountsDto, description: 'its commands by status' })
  counts!: BatchCountsDto;

  @ApiProperty({ type: String, nullable: true, description: "the first failed command's code" })
  reasonCode!: string | null;

  @ApiProperty({ type: String, nullable: true })
  reason!: string | null;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time', description: 'the latest change of any of its commands' })
  updatedAt!: string;

  static from(b: CommandBatchView): CommandBatchDto {
    return {
      id: b.id,
      accountId: b.accountId,
      action: b.action,
      status: b.status,
      messages: b.messages,
      commands: b.commands,
      counts: { ...b.counts },
      reasonCode: b.reasonCode,
      reason: b.reason,
      createdAt: b.createdAt,
      updatedAt: b.updatedAt,
    };
  }
}

const graphIds = (description: string): SchemaObject => ({
  type: 'array',
  items: { type: 'string', description: 'a message id, as the read API returns it' },
  maxItems: MAX_BATCH_MESSAGES,
  description,
});

const selection: SchemaObject = {
  type: 'object',
  description:
    'the messages `GET /accounts/:id/messages` lists with these filters (same meaning), resolved by the server; ' +
    'no folderId and no q: the whole account',
  properties: {
    folderId: { type: 'string' },
    unread: { type: 'boolean' },
    flagged: { type: 'boolean' },
    hasAttachments: { type: 'boolean' },
    from: { type: 'string', maxLength: 320 },
    after: { type: 'string', format: 'date-time' },
    before: { type: 'string', format: 'date-time' },
    q: { type: 'string', maxLength: 500 },
    excludeIds: graphIds('messages the filters match that the user unticked'),
  },
};

const variant = (action: BatchAction, required: string[], properties: Record<string, SchemaObject>) => ({
  type: 'object' as const,
  title: action,
  required: ['accountId', 'action', ...required],
  description: 'exactly one of `messageIds` and `selection`',
  properties: {
    id: {
      type: 'string',
      format: 'uuid',
      description: 'your id for the batch: the same id again queues once',
    },
    accountId: { type: 'string', format: 'uuid' },
    action: { type: 'string', enum: [action] },
    messageIds: { ...graphIds('the messages by id'), minItems: 1 },
    selection,
    ...properties,
  },
});

/** `commandBatchRequestSchema` (libs/contracts/src/command-batches.ts) for the OpenAPI document */
export const commandBatchRequestOpenApi: SchemaObject = {
  oneOf: [
    variant('markRead', ['isRead'], { isRead: { type: 'boolean' } }),
    variant('flag', ['flagStatus'], {
      flagStatus: { type: 'string', enum: ['notFlagged', 'flagged', 'complete'] },
    }),
    variant('move', ['destinationFolderId'], {
      destinationFolderId: { type: 'string', description: "a folder id or well-known name (e.g. 'archive')" },
    }),
    variant('delete', [], {}),
  ],
  discriminator: { propertyName: 'action' },
};
