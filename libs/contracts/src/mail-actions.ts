/**
 * The mail actions and their limits: the one list every layer reads (the request schema and the messages in
 * mail-commands.ts, the API's DTO and OpenAPI document, the dashboard, and a test that holds the database's CHECK
 * on `mail_commands.action` to it). No zod here, so the dashboard can import the values without bundling it.
 *
 * Adding an action: add it here, give it a variant in `mailCommandRequestSchema` and `mailCommandRequestOpenApi`
 * (the compiler and the contracts spec ask for both), a migration widening the CHECK (the database spec fails
 * until it does), and an implementation in each provider adapter.
 */
export const MAIL_ACTIONS = [
  'markRead',
  'flag',
  'move',
  'delete',
  'send',
  'reply',
  'forward',
  'saveDraft',
  'discardDraft',
  'sendDraft',
] as const;
export type MailAction = (typeof MAIL_ACTIONS)[number];

export const MAIL_COMMAND_STATUSES = ['queued', 'sent', 'done', 'failed'] as const;

/** At most this many message ids in one bulk read/flag/move/delete. */
export const MAX_BULK_IDS = 500;
/** Attachments are sent inline up to this size each (Graph's limit for inline attachments). */
export const MAX_INLINE_ATTACHMENT_BYTES = 3 * 1024 * 1024;
/** At most this many attachments on one outgoing mail. */
export const MAX_ATTACHMENTS = 10;
/** How long an upload waits for the command that attaches it. */
export const UPLOAD_TTL_HOURS = 24;
/** At most this many uploads of one user wait for their command at once. */
export const MAX_PENDING_UPLOADS = 50;
