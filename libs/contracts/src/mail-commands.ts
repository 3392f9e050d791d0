import { z } from 'zod';
import { MAIL_ACTIONS, MAIL_COMMAND_STATUSES, MAX_ATTACHMENTS, MAX_BULK_IDS } from './mail-actions';

export {
  MAIL_ACTIONS,
  MAIL_COMMAND_STATUSES,
  MAX_ATTACHMENTS,
  MAX_BULK_IDS,
  MAX_INLINE_ATTACHMENT_BYTES,
  MAX_PENDING_UPLOADS,
  UPLOAD_TTL_HOURS,
  type MailAction,
} from './mail-actions';

/**
 * User actions written back to Outlook (issue 6). The API validates a request against `mailCommandRequestSchema`,
 * stores it as a command (`mail_commands`, with its attachments in `mail_command_attachments`) and publishes a
 * `mail.command` message through the outbox; the worker loads the command by id, so Kafka never carries mail
 * content or attachments. Statuses: `queued` (accepted) → `sent` (the worker is calling Graph) → `done`
 * (Graph confirmed and the mirror is updated) or `failed` (with a reason).
 */

const uuid = z.string().uuid();
const isoDate = z.string().datetime();
const graphId = z.string().min(1).max(512);

export const recipientSchema = z
  .object({ address: z.string().email().max(320), name: z.string().max(256).optional() })
  .strict();
export type Recipient = z.infer<typeof recipientSchema>;

/** An attachment as the API receives it (base64 content); the size limit is checked on the decoded bytes. */
export const attachmentUploadSchema = z
  .object({
    name: z.string().min(1).max(255),
    contentType: z.string().min(1).max(255).default('application/octet-stream'),
    contentBase64: z.string().min(1),
  })
  .strict();
export type AttachmentUpload = z.infer<typeof attachmentUploadSchema>;

/**
 * An attachment uploaded beforehand (`POST /uploads`, its raw bytes streamed with a hard limit): the command names
 * it, and the API moves its bytes into the command when the command is stored. The way to attach large files;
 * inline base64 remains for small ones (counted against the command's JSON body limit, docs/mail-actions.md).
 */
export const attachmentRefSchema = z.object({ uploadId: uuid }).strict();
export type AttachmentRef = z.infer<typeof attachmentRefSchema>;

/** An outgoing mail's attachment: inline, or a reference to an upload. */
export const outgoingAttachmentSchema = z.union([attachmentRefSchema, attachmentUploadSchema]);
export type OutgoingAttachmentRequest = z.infer<typeof outgoingAttachmentSchema>;

const bodySchema = z
  .object({ contentType: z.enum(['text', 'html']).default('text'), content: z.string().max(1_000_000) })
  .strict();

const ids = z.array(graphId).min(1).max(MAX_BULK_IDS);

/**
 * A reply's or forward's own fields (rich compose): `body`, when given, is the whole body as the user wrote it, the
 * quote of the original included (HTML is sanitized by the API), and replaces `comment` and the provider's own
 * quote; `bccRecipients` are added to whom it goes.
 */
const responseFields = {
  body: bodySchema.optional(),
  bccRecipients: z.array(recipientSchema).max(500).default([]),
};

/** What a reply or forward draft answers: the message, and how. */
export const draftOriginSchema = z
  .object({ messageId: graphId, kind: z.enum(['reply', 'replyAll', 'forward']) })
  .strict();
export type DraftOrigin = z.infer<typeof draftOriginSchema>;
const base = {
  /** the client's id for the command: the same id submitted again executes once */
  id: uuid.optional(),
  accountId: uuid,
};

export const mailCommandRequestSchema = z.discriminatedUnion('action', [
  z.object({ ...base, action: z.literal('markRead'), messageIds: ids, isRead: z.boolean() }).strict(),
  z
    .object({
      ...base,
      action: z.literal('flag'),
      messageIds: ids,
      flagStatus: z.enum(['notFlagged', 'flagged', 'complete']),
    })
    .strict(),
  z.object({ ...base, action: z.literal('move'), messageIds: ids, destinationFolderId: graphId }).strict(),
  z.object({ ...base, action: z.literal('delete'), messageIds: ids }).strict(),
  z
    .object({
      ...base,
      action: z.literal('send'),
      subject: z.string().max(998).default(''),
      body: bodySchema,
      toRecipients: z.array(recipientSchema).max(500).default([]),
      ccRecipients: z.array(recipientSchema).max(500).default([]),
      bccRecipients: z.array(recipientSchema).max(500).default([]),
      attachments: z.array(outgoingAttachmentSchema).max(MAX_ATTACHMENTS).default([]),
    })
    .strict(),
  z
    .object({
      ...base,
      action: z.literal('reply'),
      messageId: graphId,
      replyAll: z.boolean().default(false),
      comment: z.string().max(1_000_000).default(''),
      ...responseFields,
      attachments: z.array(outgoingAttachmentSchema).max(MAX_ATTACHMENTS).default([]),
    })
    .strict(),
  z
    .object({
      ...base,
      action: z.literal('forward'),
      messageId: graphId,
      toRecipients: z.array(recipientSchema).max(500),
      comment: z.string().max(1_000_000).default(''),
      ...responseFields,
      attachments: z.array(outgoingAttachmentSchema).max(MAX_ATTACHMENTS).default([]),
    })
    .strict(),
  /**
   * Drafts (docs/mail-actions.md#drafts). `draftKey` is the client's id of one draft being written (one per compose
   * window): every save of it replaces the same draft at the provider, whose id changes on IMAP with each save. The
   * worker keeps the key's current provider id (the last save's `draftId` result); `draftId` names a draft that
   * has no key yet (one reopened from Drafts). `origin` makes the first save of a reply or forward a draft of it
   * (Graph createReply/createReplyAll/createForward; IMAP In-Reply-To and References).
   */
  z
    .object({
      ...base,
      action: z.literal('saveDraft'),
      draftKey: uuid,
      draftId: graphId.optional(),
      origin: draftOriginSchema.optional(),
      subject: z.string().max(998).default(''),
      body: bodySchema,
      toRecipients: z.array(recipientSchema).max(500).default([]),
      ccRecipients: z.array(recipientSchema).max(500).default([]),
      bccRecipients: z.array(recipientSchema).max(500).default([]),
    })
    .strict(),
  z
    .object({ ...base, action: z.literal('discardDraft'), draftKey: uuid, draftId: graphId.optional() })
    .strict(),
  z.object({ ...base, action: z.literal('sendDraft'), draftKey: uuid, draftId: graphId.optional() }).strict(),
]);
export type MailCommandRequest = z.infer<typeof mailCommandRequestSchema>;
export type MailCommandAction = MailCommandRequest['action'];
export type MailCommandStatus = (typeof MAIL_COMMAND_STATUSES)[number];

/** `mailCommands`: "execute command `commandId`" (keyed by account). The command itself is in Postgres. */
export const mailCommandQueuedSchema = z
  .object({
    type: z.literal('mail.command'),
    v: z.literal(1),
    commandId: uuid,
    accountId: uuid,
    action: z.enum(MAIL_ACTIONS),
    queuedAt: isoDate,
  })
  .strict();
export type MailCommandQueued = z.infer<typeof mailCommandQueuedSchema>;

/** `events`: a command's status changed (routed to the owner's sockets by `userId`). */
export const commandStatusSchema = z
  .object({
    type: z.literal('command.status'),
    v: z.literal(1),
    commandId: uuid,
    accountId: uuid,
    userId: uuid,
    action: z.enum(MAIL_ACTIONS),
    status: z.enum(MAIL_COMMAND_STATUSES),
    /** machine-readable, with `failed` (e.g. `MESSAGE_GONE`) */
    reasonCode: z.string().max(64).optional(),
    reason: z.string().max(500).optional(),
    /** a draft command's outcome: the draft's provider id now (`saveDraft`, `done`) */
    draftId: graphId.optional(),
    at: isoDate,
  })
  .strict();
export type CommandStatus = z.infer<typeof commandStatusSchema>;
