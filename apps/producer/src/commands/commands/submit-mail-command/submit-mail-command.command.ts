import { Command } from '@nestjs/cqrs';
import type { MailCommandRequest } from '@email-core/contracts';
import type { MailCommandView } from '@email-core/database';

export interface SubmitMailCommandResult {
  /** false: the id was already submitted with this request; `command` is its current state, nothing was queued */
  created: boolean;
  command: MailCommandView;
}

/** The user asks for an action on their mail (read, flag, move, delete, send, reply, forward). */
export class SubmitMailCommand extends Command<SubmitMailCommandResult> {
  constructor(
    readonly userId: string,
    /** validated against `mailCommandRequestSchema` */
    readonly request: MailCommandRequest,
  ) {
    super();
  }
}
