import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ProviderRegistry } from '@email-core/providers';
import { AttachmentErrors, providerFailure } from '../../attachment-errors';
import { safeContentType } from '../../attachment-headers';
import { MessageOwners } from '../../message-owner.repository';
import { OpenAttachmentQuery, type AttachmentDownload } from './open-attachment.query';

/**
 * The attachment's name and type from its metadata (`$value` carries neither reliably), then its bytes as a
 * stream: nothing is held whole in memory or written to disk.
 */
@QueryHandler(OpenAttachmentQuery)
export class OpenAttachmentQueryHandler implements IQueryHandler<OpenAttachmentQuery> {
  constructor(
    private readonly owners: MessageOwners,
    private readonly providers: ProviderRegistry,
  ) {}

  async execute({ userId, messageId, attachmentId }: OpenAttachmentQuery): Promise<AttachmentDownload> {
    const account = await this.owners.accountOf(userId, messageId);
    if (!account) throw AttachmentErrors.messageNotFound();
    const client = this.providers.mailbox(account).attachments;
    try {
      const info = await client.get(messageId, attachmentId);
      const content = await client.openContent(messageId, attachmentId);
      return {
        name: info.name,
        // the provider's type for the attachment; the download's own header when the attachment has none to offer
        contentType: safeContentType(
          info.contentType === 'application/octet-stream' ? content.contentType : info.contentType,
          info.contentType,
        ),
        contentLength: content.contentLength,
        body: content.body,
      };
    } catch (err) {
      throw providerFailure(err, AttachmentErrors.attachmentNotFound);
    }
  }
}
