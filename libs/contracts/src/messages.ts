import { z } from 'zod';

/**
 * Every Kafka message shape, one zod schema per type with a version field `v`. Producers validate before they
 * send and consumers validate what they receive; a message that fails goes to the dead-letter topic.
 * Messages carry ids, never tokens or other secrets.
 */

const uuid = z.string().uuid();
const isoDate = z.string().datetime();

/** `syncRequests`: sync a whole mailbox: folder tree, then delta per folder (resumes from stored links) */
export const syncRequestedSchema = z
  .object({
    type: z.literal('sync.requested'),
    v: z.literal(1),
    accountId: uuid,
    reason: z.enum(['linked', 'relinked', 'resync', 'missed', 'manual']),
    requestedAt: isoDate,
  })
  .strict();
export type SyncRequested = z.infer<typeof syncRequestedSchema>;

/** `events`: domain events for dashboards; routed to the owning user's sockets by `userId` */
export const syncProgressSchema = z
  .object({
    type: z.literal('sync.progress'),
    v: z.literal(1),
    accountId: uuid,
    userId: uuid,
    foldersTotal: z.number().int().min(0),
    foldersDone: z.number().int().min(0),
    messagesSynced: z.number().int().min(0),
    at: isoDate,
  })
  .strict();
export type SyncProgress = z.infer<typeof syncProgressSchema>;

export const syncCompletedSchema = z
  .object({
    type: z.literal('sync.completed'),
    v: z.literal(1),
    accountId: uuid,
    userId: uuid,
    folders: z.number().int().min(0),
    messages: z.number().int().min(0),
    at: isoDate,
  })
  .strict();
export type SyncCompleted = z.infer<typeof syncCompletedSchema>;

export const accountStatusSchema = z
  .object({
    type: z.literal('account.status'),
    v: z.literal(1),
    accountId: uuid,
    userId: uuid,
    status: z.enum(['syncing', 'synced', 'reauth_required', 'error']),
    reason: z.string().max(500).optional(),
    at: isoDate,
  })
  .strict();
export type AccountStatus = z.infer<typeof accountStatusSchema>;

export const domainEventSchema = z.discriminatedUnion('type', [
  syncProgressSchema,
  syncCompletedSchema,
  accountStatusSchema,
]);
export type DomainEvent = z.infer<typeof domainEventSchema>;

/**
 * `retry` and `deadLetter`: a failed message, wrapped with where it came from and how often it failed.
 * The retry consumer re-publishes it to `topic` once `notBefore` has passed.
 */
export const failedMessageSchema = z
  .object({
    type: z.literal('message.failed'),
    v: z.literal(1),
    topic: z.string().min(1),
    key: z.string(),
    /** the original message value, as sent */
    value: z.string(),
    attempt: z.number().int().min(1),
    error: z.string().max(2000),
    failedAt: isoDate,
    notBefore: isoDate,
  })
  .strict();
export type FailedMessage = z.infer<typeof failedMessageSchema>;
