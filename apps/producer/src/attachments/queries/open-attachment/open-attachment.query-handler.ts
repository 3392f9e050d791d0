import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { AttachmentErrors, graphFailure } from '../../attachment-errors';
import { safeContentType } from '../../attachment-headers';
import { GraphAttachmentsFactory } from '../../graph-attachments.factory';
import { MessageOwnerRepository } from '../../message-owner.repository';
import { OpenAttachmentQuery, type AttachmentDownload } from './open-attachment.query';

/**
 * The attachment's name and type from its metadata (`$value` carries neither reliably), then its bytes as a
 * stream: nothing is held whole in memory or written to disk.
 */
@QueryHandler(OpenAttachmentQuery)
export class OpenAttachmentQueryHandler implements IQueryHandler<OpenAttachmentQuery> {
  constructor(
    private readonly owners: MessageOwnerRepository,
    private readonly graph: GraphAttachmentsFactory,
  ) {}

  async execute({ userId, messageId, attachmentId }: OpenAttachmentQuery): Promise<AttachmentDownload> {
    const accountId = await this.owners.accountOf(userId, messageId);
    if (!accountId) throw AttachmentErrors.messageNotFound();
    const client = this.graph.forAccount(accountId);
    try {
      const info = await client.get(messageId, attachmentId);
      const content = await client.openContent(messageId, attachmentId);
      return {
        name: info.name,
        // Graph's type for the attachment; the download's own header when the attachment has none to offer
        contentType: safeContentType(
          info.contentType === 'application/octet-stream' ? content.contentType : info.contentType,
          info.contentType,
        ),
        contentLength: content.contentLength,
        body: content.body,
      };
    } catch (err) {
      throw graphFailure(err, AttachmentErrors.attachmentNotFound);
    }
  }
}
