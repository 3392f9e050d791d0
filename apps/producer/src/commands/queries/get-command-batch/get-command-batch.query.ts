import { Query } from '@nestjs/cqrs';
import type { CommandBatchView } from '@email-core/database';

/** A batch's combined status, for its owner. */
export class GetCommandBatchQuery extends Query<CommandBatchView> {
  constructor(
    readonly userId: string,
    readonly batchId: string,
  ) {
    super();
  }
}
