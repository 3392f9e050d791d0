import { Command } from '@nestjs/cqrs';
import type { GraphNotification } from '@email-core/contracts';

export type ApplyNotificationsOutcome =
  /** the affected folders' deltas ran; what changed is logged and announced */
  | 'applied'
  /** no such account, it waits for re-authorization, or its first sync has not completed (that sync covers it) */
  | 'skipped'
  /** Microsoft refused the account's refresh token: the account is `reauth_required` */
  | 'reauth_required';

/**
 * One round for one mailbox: the union of its notifications in a fetched batch, and/or a reconciliation (every
 * folder's delta from its stored link, after a folder-tree refresh; `mailbox.reconcile`).
 */
export class ApplyNotificationsCommand extends Command<ApplyNotificationsOutcome> {
  constructor(
    readonly accountId: string,
    readonly notifications: readonly GraphNotification[],
    /** aborted when the worker stops or loses the partition: give up at the next page boundary */
    readonly signal: AbortSignal = new AbortController().signal,
    /** run every folder, whatever the notifications name (the periodic reconciliation) */
    readonly reconcile = false,
  ) {
    super();
  }
}
