import { Command } from '@nestjs/cqrs';
import type { CommandBatchRequest } from '@email-core/contracts';
import type { CommandBatchView } from '@email-core/database';

export interface SubmitCommandBatchResult {
  /** false: the id was already submitted with this request; `batch` is its current state, nothing was queued */
  created: boolean;
  batch: CommandBatchView;
}

/** The user acts on a selection of messages of any size (read, flag, move, delete): one command per 500 ids. */
export class SubmitCommandBatch extends Command<SubmitCommandBatchResult> {
  constructor(
    readonly userId: string,
    /** validated against `commandBatchRequestSchema` */
    readonly request: CommandBatchRequest,
  ) {
    super();
  }
}
