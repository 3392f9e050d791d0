import { Command } from '@nestjs/cqrs';

export type ExecuteMailCommandResult =
  /** Graph did everything the command asked; the mirror follows */
  | 'done'
  /** the command ended `failed` (its reason says why) */
  | 'failed'
  /** it had already ended: nothing ran (its status event was announced again) */
  | 'already_finished'
  /** another delivery claimed it first */
  | 'not_claimed'
  /** no such command (its account was unlinked) */
  | 'missing';

/**
 * Execute mail command `commandId` (stored in `mail_commands`) against Graph, at most once. Throws when the
 * Kafka message should be retried (Graph throttled or unavailable; a mail Graph certainly did not send is put
 * back to `queued` first).
 */
export class ExecuteMailCommandCommand extends Command<ExecuteMailCommandResult> {
  constructor(
    readonly commandId: string,
    /** the Kafka delivery is the last one before the dead-letter topic: end the command rather than throw */
    readonly finalAttempt: boolean,
    /** aborted when the worker stops or loses the partition */
    readonly signal: AbortSignal = new AbortController().signal,
  ) {
    super();
  }
}
