import { Command } from '@nestjs/cqrs';

export interface RequestResyncResult {
  accountId: string;
  requestedAt: string;
}

/** The user asks for their mailbox to be synced again (it resumes from the stored delta links). */
export class RequestResyncCommand extends Command<RequestResyncResult> {
  constructor(
    readonly userId: string,
    readonly accountId: string,
  ) {
    super();
  }
}
