import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { ProviderRegistry, type RemoteAttachmentInfo } from '@email-core/providers';
import { AttachmentErrors, providerFailure } from '../../attachment-errors';
import { MessageOwners } from '../../message-owner.repository';
import { ListAttachmentsQuery } from './list-attachments.query';

/** The message must be in one of the user's mirrored accounts; the list itself comes from its provider. */
@QueryHandler(ListAttachmentsQuery)
export class ListAttachmentsQueryHandler implements IQueryHandler<ListAttachmentsQuery> {
  constructor(
    private readonly owners: MessageOwners,
    private readonly providers: ProviderRegistry,
  ) {}

  async execute({ userId, messageId }: ListAttachmentsQuery): Promise<RemoteAttachmentInfo[]> {
    const account = await this.owners.accountOf(userId, messageId);
    if (!account) throw AttachmentErrors.messageNotFound();
    try {
      return await this.providers.mailbox(account).attachments.list(messageId);
    } catch (err) {
      throw providerFailure(err, AttachmentErrors.messageNotFound);
    }
  }
}
