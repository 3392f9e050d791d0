import { ApiProperty, type SchemaObject } from '@nestjs/swagger';
import {
  MAIL_ACTIONS,
  MAIL_COMMAND_STATUSES,
  MAX_ATTACHMENTS,
  MAX_BULK_IDS,
  MAX_INLINE_ATTACHMENT_BYTES,
  type MailCommandAction,
  type MailCommandStatus,
} from '@email-core/contracts';
import type { MailCommandView } from '@email-core/database';

/** A command as the API shows it: an allow-list (never the request, never an attachment). */
export class CommandDto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ format: 'uuid' })
  accountId!: string;

  @ApiProperty({ enum: MAIL_ACTIONS })
  action!: MailCommandAction;

  @ApiProperty({
    enum: MAIL_COMMAND_STATUSES,
    description: '`queued` → `sent` (the worker is calling Graph) → `done`, or `failed` with a reason',
  })
  status!: MailCommandStatus;

  @ApiProperty({ type: String, nullable: true, description: 'with `failed`: e.g. `MESSAGE_GONE`' })
  reasonCode!: string | null;

  @ApiProperty({ type: String, nullable: true })
  reason!: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    description:
      "a `saveDraft` once `done`: the draft's provider id now (on IMAP it changes with every save)",
  })
  draftId!: string | null;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt!: string;

  static from(c: MailCommandView): CommandDto {
    return {
      id: c.id,
      accountId: c.accountId,
      action: c.action,
      status: c.status,
      reasonCode: c.reasonCode,
      reason: c.reason,
      draftId: c.draftId,
      createdAt: c.createdAt,
      updatedAt: c.updatedAt,
    };
  }
}

const uuid: SchemaObject = { type: 'string', format: 'uuid' };
const ids: SchemaObject = {
  type: 'array',
  items: { type: 'string', description: 'Graph immutable message id' },
  minItems: 1,
  maxItems: MAX_BULK_IDS,
};
const recipients: SchemaObject = {
  type: 'array',
  maxItems: 500,
  items: {
    type: 'object',
    required: ['address'],
    properties: { address: { type: 'string', format: 'email' }, name: { type: 'string' } },
  },
};
const attachments: SchemaObject = {
  type: 'array',
  maxItems: MAX_ATTACHMENTS,
  items: {
    oneOf: [
      {
        type: 'object',
        title: 'uploaded',
        required: ['uploadId'],
        properties: {
          uploadId: {
            ...uuid,
            description:
              'from `POST /uploads` (raw bytes, streamed): the way to attach files (404 UPLOAD_NOT_FOUND)',
          },
        },
      },
      {
        type: 'object',
        title: 'inline',
        required: ['name', 'contentBase64'],
        properties: {
          name: { type: 'string', maxLength: 255 },
          contentType: { type: 'string', default: 'application/octet-stream' },
          contentBase64: {
            type: 'string',
            format: 'byte',
            description:
              `standard base64; at most ${MAX_INLINE_ATTACHMENT_BYTES} bytes once decoded (413 ATTACHMENT_TOO_LARGE), ` +
              'and the whole command at most 4 MiB of JSON (413 PAYLOAD_TOO_LARGE): for small files only',
          },
        },
      },
    ],
  },
};
const body: SchemaObject = {
  type: 'object',
  required: ['content'],
  description: 'HTML is sanitized by the API before it is stored or sent (docs/mail-actions.md#compose)',
  properties: { contentType: { type: 'string', enum: ['text', 'html'] }, content: { type: 'string' } },
};
/** a reply's or forward's whole body (the quote included: it replaces `comment` and the provider's quote), Bcc */
const responseFields: Record<string, SchemaObject> = {
  body: { ...body, description: `the whole body, the quote of the original included; ${body.description}` },
  bccRecipients: recipients,
};
/** one action's own fields: which are required, and their schemas */
interface ActionFields {
  required: string[];
  properties: Record<string, SchemaObject>;
}
const variant = (action: MailCommandAction, { required, properties }: ActionFields): SchemaObject => ({
  type: 'object',
  title: action,
  required: ['accountId', 'action', ...required],
  properties: {
    id: { ...uuid, description: 'your id for the command: the same id again executes once' },
    accountId: uuid,
    action: { type: 'string', enum: [action] },
    ...properties,
  },
});

/** every action of MAIL_ACTIONS (the compiler asks for a new one's fields here) */
const ACTION_FIELDS: Record<MailCommandAction, ActionFields> = {
  markRead: {
    required: ['messageIds', 'isRead'],
    properties: { messageIds: ids, isRead: { type: 'boolean' } },
  },
  flag: {
    required: ['messageIds', 'flagStatus'],
    properties: {
      messageIds: ids,
      flagStatus: { type: 'string', enum: ['notFlagged', 'flagged', 'complete'] },
    },
  },
  move: {
    required: ['messageIds', 'destinationFolderId'],
    properties: {
      messageIds: ids,
      destinationFolderId: { type: 'string', description: "a folder id or well-known name (e.g. 'archive')" },
    },
  },
  delete: { required: ['messageIds'], properties: { messageIds: ids } },
  send: {
    required: ['body'],
    properties: {
      subject: { type: 'string', maxLength: 998 },
      body,
      toRecipients: recipients,
      ccRecipients: recipients,
      bccRecipients: recipients,
      attachments,
    },
  },
  reply: {
    required: ['messageId'],
    properties: {
      messageId: { type: 'string' },
      replyAll: { type: 'boolean', default: false },
      comment: { type: 'string' },
      ...responseFields,
      attachments,
    },
  },
  forward: {
    required: ['messageId', 'toRecipients'],
    properties: {
      messageId: { type: 'string' },
      toRecipients: { ...recipients, minItems: 1 },
      comment: { type: 'string' },
      ...responseFields,
      attachments,
    },
  },
  saveDraft: {
    required: ['draftKey', 'body'],
    properties: {
      draftKey: {
        ...uuid,
        description: 'your id of the draft (one per compose window): each save replaces it',
      },
      draftId: {
        type: 'string',
        description: 'a draft to replace that has no key yet (reopened from Drafts)',
      },
      origin: {
        type: 'object',
        required: ['messageId', 'kind'],
        description: 'a reply or forward draft: the message it answers (used when the draft is created)',
        properties: {
          messageId: { type: 'string' },
          kind: { type: 'string', enum: ['reply', 'replyAll', 'forward'] },
        },
      },
      subject: { type: 'string', maxLength: 998 },
      body: {
        type: 'object',
        required: ['content'],
        properties: { contentType: { type: 'string', enum: ['text', 'html'] }, content: { type: 'string' } },
      },
      toRecipients: recipients,
      ccRecipients: recipients,
      bccRecipients: recipients,
    },
  },
  discardDraft: {
    required: ['draftKey'],
    properties: { draftKey: uuid, draftId: { type: 'string' } },
  },
  sendDraft: {
    required: ['draftKey'],
    properties: { draftKey: uuid, draftId: { type: 'string' } },
  },
};

/** `mailCommandRequestSchema` (libs/contracts/src/mail-commands.ts) for the OpenAPI document */
export const mailCommandRequestOpenApi: SchemaObject = {
  oneOf: MAIL_ACTIONS.map((action) => variant(action, ACTION_FIELDS[action])),
  discriminator: { propertyName: 'action' },
};
