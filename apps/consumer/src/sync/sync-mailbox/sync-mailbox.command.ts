import { Command } from '@nestjs/cqrs';
import type { SyncRequested } from '@email-core/contracts';

export type SyncMailboxOutcome =
  /** every folder reached its deltaLink; `sync.completed` went out */
  | 'completed'
  /** no such account, or it waits for its user to sign in again */
  | 'skipped'
  /** Microsoft refused the account's refresh token: the account is `reauth_required`, its mail kept */
  | 'reauth_required';

/** Sync a whole mailbox: the folder tree, then each folder's delta from where it stopped. */
export class SyncMailboxCommand extends Command<SyncMailboxOutcome> {
  constructor(
    readonly request: SyncRequested,
    /** aborted when the worker stops or loses the partition: give up at the next page boundary */
    readonly signal: AbortSignal = new AbortController().signal,
  ) {
    super();
  }
}
