import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { MailCommandBatchesRepository, type CommandBatchView } from '@email-core/database';
import { CommandBatchErrors } from '../../command-batch-errors';
import { GetCommandBatchQuery } from './get-command-batch.query';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Someone else's batch, an unknown id and a malformed one all read as BATCH_NOT_FOUND. */
@QueryHandler(GetCommandBatchQuery)
export class GetCommandBatchQueryHandler implements IQueryHandler<GetCommandBatchQuery> {
  constructor(private readonly batches: MailCommandBatchesRepository) {}

  async execute({ userId, batchId }: GetCommandBatchQuery): Promise<CommandBatchView> {
    if (!UUID.test(batchId)) throw CommandBatchErrors.batchNotFound();
    const batch = await this.batches.findForUser(userId, batchId.toLowerCase());
    if (!batch) throw CommandBatchErrors.batchNotFound();
    return batch;
  }
}
