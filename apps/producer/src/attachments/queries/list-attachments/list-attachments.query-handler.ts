import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { GraphAttachmentInfo } from '@email-core/graph';
import { AttachmentErrors, graphFailure } from '../../attachment-errors';
import { GraphAttachmentsFactory } from '../../graph-attachments.factory';
import { MessageOwnerRepository } from '../../message-owner.repository';
import { ListAttachmentsQuery } from './list-attachments.query';

/** The message must be in one of the user's mirrored accounts; the list itself comes from Graph. */
@QueryHandler(ListAttachmentsQuery)
export class ListAttachmentsQueryHandler implements IQueryHandler<ListAttachmentsQuery> {
  constructor(
    private readonly owners: MessageOwnerRepository,
    private readonly graph: GraphAttachmentsFactory,
  ) {}

  async execute({ userId, messageId }: ListAttachmentsQuery): Promise<GraphAttachmentInfo[]> {
    const accountId = await this.owners.accountOf(userId, messageId);
    if (!accountId) throw AttachmentErrors.messageNotFound();
    try {
      return await this.graph.forAccount(accountId).list(messageId);
    } catch (err) {
      throw graphFailure(err, AttachmentErrors.messageNotFound);
    }
  }
}
