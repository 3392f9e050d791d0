import { z } from 'zod';
import { MAIL_COMMAND_STATUSES } from './mail-actions';
import type { MailCommandStatus } from './mail-commands';
import { hasNoControlCharacters, isoInstant } from './query-params';

/**
 * Batches (issue 23, multi-select): one bulk action (read, flag, move, delete) on any number of messages, named
 * either by id or by a server-side selection (the message list's filters, minus the ids the user unticked). The
 * API resolves the selection on the primary, splits the ids into commands of at most MAX_BULK_IDS each and stores
 * them together under the batch's id, with their `mail.command` outbox rows, in one transaction. The worker runs
 * each command as any other; after every status a command of a batch takes, it publishes the batch's combined
 * status (`command.batch.status`), so a client shows one status for the whole selection.
 */

/** The actions a batch may carry: the bulk ones. */
export const BATCH_ACTIONS = ['markRead', 'flag', 'move', 'delete'] as const;
export type BatchAction = (typeof BATCH_ACTIONS)[number];

/** At most this many messages in one batch (explicit ids, or what a selection resolves to). */
export const MAX_BATCH_MESSAGES = 50_000;

const uuid = z.string().uuid();
const graphId = z.string().min(1).max(512).refine(hasNoControlCharacters, 'must not hold control characters');
const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine(hasNoControlCharacters, 'must not hold control characters')
    .transform((s) => s.trim() || undefined);

/**
 * The messages of a list, as `GET /accounts/:id/messages` filters them (the same fields, booleans as booleans),
 * minus `excludeIds`. No folder and no `q` means the whole account.
 */
export const messageSelectionSchema = z
  .object({
    folderId: z.string().min(1).max(1024).refine(hasNoControlCharacters).optional(),
    unread: z.boolean().optional(),
    flagged: z.boolean().optional(),
    hasAttachments: z.boolean().optional(),
    from: text(320).optional(),
    after: isoInstant().optional(),
    before: isoInstant().optional(),
    q: text(500).optional(),
    /** messages the filter matches that the user unticked */
    excludeIds: z.array(graphId).max(MAX_BATCH_MESSAGES).default([]),
  })
  .strict()
  .refine(
    (s) => s.after === undefined || s.before === undefined || Date.parse(s.after) < Date.parse(s.before),
    { message: 'after must be earlier than before', path: ['after'] },
  );
export type MessageSelection = z.infer<typeof messageSelectionSchema>;

const base = {
  /** the client's id for the batch: the same id with the same request answers the batch, queues nothing */
  id: uuid.optional(),
  accountId: uuid,
  /** the messages by id, any number up to MAX_BATCH_MESSAGES (and the route's body limit) */
  messageIds: z.array(graphId).min(1).max(MAX_BATCH_MESSAGES).optional(),
  /** or the messages a list's filters select, resolved by the server */
  selection: messageSelectionSchema.optional(),
};

export const commandBatchRequestSchema = z
  .discriminatedUnion('action', [
    z.object({ ...base, action: z.literal('markRead'), isRead: z.boolean() }).strict(),
    z
      .object({
        ...base,
        action: z.literal('flag'),
        flagStatus: z.enum(['notFlagged', 'flagged', 'complete']),
      })
      .strict(),
    z.object({ ...base, action: z.literal('move'), destinationFolderId: graphId }).strict(),
    z.object({ ...base, action: z.literal('delete') }).strict(),
  ])
  .refine((r) => (r.messageIds === undefined) !== (r.selection === undefined), {
    message: 'name the messages either by messageIds or by selection (one of the two)',
    path: ['messageIds'],
  });
export type CommandBatchRequest = z.infer<typeof commandBatchRequestSchema>;

export interface BatchCounts {
  queued: number;
  sent: number;
  done: number;
  failed: number;
}

/**
 * The combined status of a batch's commands: `done` when every one is done, `failed` when every one has finished
 * and at least one failed, `queued` while none has started, `sent` (under way) otherwise.
 */
export function combinedBatchStatus(c: BatchCounts): MailCommandStatus {
  const total = c.queued + c.sent + c.done + c.failed;
  if (c.done === total) return 'done';
  if (c.done + c.failed === total) return 'failed';
  if (c.queued === total) return 'queued';
  return 'sent';
}

const count = z.number().int().min(0);

/** `events`: a batch's combined status changed (after a status of one of its commands; to the owner's sockets). */
export const commandBatchStatusSchema = z
  .object({
    type: z.literal('command.batch.status'),
    v: z.literal(1),
    batchId: uuid,
    accountId: uuid,
    userId: uuid,
    action: z.enum(BATCH_ACTIONS),
    status: z.enum(MAIL_COMMAND_STATUSES),
    /** how many messages the batch names, and in how many commands */
    messages: count,
    commands: count.min(1),
    /** its commands by status */
    counts: z.object({ queued: count, sent: count, done: count, failed: count }).strict(),
    /** with failures: the first failed command's code and reason */
    reasonCode: z.string().max(64).optional(),
    reason: z.string().max(500).optional(),
    at: z.string().datetime(),
  })
  .strict();
export type CommandBatchStatus = z.infer<typeof commandBatchStatusSchema>;
