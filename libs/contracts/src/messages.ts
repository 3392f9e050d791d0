import { z } from 'zod';
import { commandStatusSchema } from './mail-commands';
import { commandBatchStatusSchema } from './command-batches';

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
    /**
     * the mailbox's message count when this sync started: the sum of Graph's `totalItemCount` over the folder
     * tree the sync fetched (mail that arrives meanwhile can take `messagesSynced` past it)
     */
    messagesTotal: z.number().int().min(0),
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

/**
 * `events`: one committed write batch of live changes to a mailbox. `seq` numbers are per account, gapless and
 * increasing; `GET /api/v1/accounts/:id/changes?since=<seq>` returns the same changes, so a client that missed
 * events catches up instead of reloading. Message and folder ids are the Graph immutable ids the API exposes.
 */
export const mailChangeSchema = z
  .object({
    seq: z.number().int().min(1),
    /**
     * `created`: the message arrived (new to the account, not a move: docs/realtime.md); `upserted`: a message the
     * account had changed (read state, flag, content) or moved into `folderId`, under its id or a new one (an IMAP
     * move); `removed`: it left `folderId`. `created` came later (issue 23): a client treats any kind it does not know as `upserted`.
     */
    kind: z.enum(['created', 'upserted', 'removed']),
    messageId: z.string().min(1).max(512),
    folderId: z.string().min(1).max(512),
  })
  .strict();
export type MailChange = z.infer<typeof mailChangeSchema>;

export const folderCountsSchema = z
  .object({
    folderId: z.string().min(1).max(512),
    totalCount: z.number().int().min(0),
    unreadCount: z.number().int().min(0),
  })
  .strict();
export type FolderCounts = z.infer<typeof folderCountsSchema>;

export const mailChangedSchema = z
  .object({
    type: z.literal('mail.changed'),
    v: z.literal(1),
    accountId: uuid,
    userId: uuid,
    /** the highest seq in `changes` (the account's change sequence after this batch) */
    seq: z.number().int().min(1),
    changes: z.array(mailChangeSchema).min(1).max(5000),
    /** current counts of every folder this batch touched */
    folders: z.array(folderCountsSchema).max(1000),
    /** when the webhook accepted the earliest notification this batch answers (absent for resyncs) */
    notifiedAt: isoDate.optional(),
    at: isoDate,
  })
  .strict();
export type MailChanged = z.infer<typeof mailChangedSchema>;

export const domainEventSchema = z.discriminatedUnion('type', [
  syncProgressSchema,
  syncCompletedSchema,
  accountStatusSchema,
  mailChangedSchema,
  commandStatusSchema,
  commandBatchStatusSchema,
]);
export type DomainEvent = z.infer<typeof domainEventSchema>;

/**
 * `mailboxPokes`: the provider-neutral poke. Any watcher (the Graph webhook, an IMAP IDLE connection, the periodic
 * reconciliation, a mail action) says "account X: these messages or folders changed", and the round that follows
 * is the same for every provider: the named folders (or, when a change names neither, every folder) catch up from
 * their stored cursors, so duplicates, reordering and lost pokes converge on the mailbox's true state. Ids are the
 * provider's own (`remote_id`); no tokens, no provider URLs.
 */
export const mailboxPokeChangeSchema = z
  .object({
    kind: z.enum(['created', 'updated', 'deleted']),
    /** the provider's id of the message, when the watcher knows it */
    messageId: z.string().min(1).max(512).optional(),
    /** the provider's id of the folder, when the watcher knows it */
    folderId: z.string().min(1).max(1024).optional(),
  })
  .strict();
export type MailboxPokeChange = z.infer<typeof mailboxPokeChangeSchema>;

export const MAILBOX_POKE_SOURCES = ['webhook', 'idle', 'reconcile', 'action', 'lifecycle'] as const;
export type MailboxPokeSource = (typeof MAILBOX_POKE_SOURCES)[number];

export const mailboxPokeSchema = z
  .object({
    type: z.literal('mailbox.poke'),
    v: z.literal(1),
    accountId: uuid,
    source: z.enum(MAILBOX_POKE_SOURCES),
    /** what changed; a change that names neither a message nor a folder means "somewhere": every folder runs */
    changes: z.array(mailboxPokeChangeSchema).max(1000),
    /** every folder catches up from its cursor (the reconciliation; a watcher that lost track) */
    everyFolder: z.boolean().optional(),
    receivedAt: isoDate,
  })
  .strict()
  .refine((p) => p.everyFolder === true || p.changes.length > 0, {
    message: 'a poke names at least one change, or everyFolder',
  });
export type MailboxPoke = z.infer<typeof mailboxPokeSchema>;

/** A poke that names no change and asks for every folder from its cursor (the reconciliation, a catch-up). */
export function everyFolderPoke(
  accountId: string,
  source: MailboxPokeSource,
  receivedAt: string,
): MailboxPoke {
  return { type: 'mailbox.poke', v: 1, accountId, source, changes: [], everyFolder: true, receivedAt };
}

/**
 * `subscriptions`: the subscription manager's work, keyed by account.
 * - `subscription.ensure`: make sure the account has exactly one live subscription (create, or renew).
 * - `subscription.lifecycle`: a lifecycle event the webhook accepted: `reauthorizationRequired` renews,
 *   `subscriptionRemoved` recreates and catches up, `missed` catches up (a `mailbox.poke` of every folder).
 * - `subscription.delete`: the account was unlinked; delete its subscription at Microsoft. `removalId` names
 *   the `subscription_removals` row that holds what the worker needs (never the token itself).
 */
export const subscriptionEnsureSchema = z
  .object({
    type: z.literal('subscription.ensure'),
    v: z.literal(1),
    accountId: uuid,
    reason: z.enum(['synced', 'renewal', 'removed', 'reauthorization', 'manual']),
    requestedAt: isoDate,
  })
  .strict();
export type SubscriptionEnsure = z.infer<typeof subscriptionEnsureSchema>;

export const subscriptionLifecycleSchema = z
  .object({
    type: z.literal('subscription.lifecycle'),
    v: z.literal(1),
    accountId: uuid,
    subscriptionId: z.string().min(1).max(256),
    lifecycleEvent: z.enum(['reauthorizationRequired', 'subscriptionRemoved', 'missed']),
    receivedAt: isoDate,
  })
  .strict();
export type SubscriptionLifecycle = z.infer<typeof subscriptionLifecycleSchema>;

export const subscriptionDeleteSchema = z
  .object({
    type: z.literal('subscription.delete'),
    v: z.literal(1),
    accountId: uuid,
    removalId: uuid,
    requestedAt: isoDate,
  })
  .strict();
export type SubscriptionDelete = z.infer<typeof subscriptionDeleteSchema>;

export const subscriptionWorkSchema = z.discriminatedUnion('type', [
  subscriptionEnsureSchema,
  subscriptionLifecycleSchema,
  subscriptionDeleteSchema,
]);
export type SubscriptionWork = z.infer<typeof subscriptionWorkSchema>;

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
