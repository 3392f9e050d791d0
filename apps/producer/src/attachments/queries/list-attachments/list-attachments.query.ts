import { Query } from '@nestjs/cqrs';
import type { RemoteAttachmentInfo } from '@email-core/providers';

/** A message's attachments (metadata), read from its provider on demand. */
export class ListAttachmentsQuery extends Query<RemoteAttachmentInfo[]> {
  constructor(
    readonly userId: string,
    readonly messageId: string,
  ) {
    super();
  }
}
