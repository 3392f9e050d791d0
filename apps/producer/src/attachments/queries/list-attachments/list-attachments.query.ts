import { Query } from '@nestjs/cqrs';
import type { GraphAttachmentInfo } from '@email-core/graph';

/** A message's attachments (metadata), read from Graph on demand. */
export class ListAttachmentsQuery extends Query<GraphAttachmentInfo[]> {
  constructor(
    readonly userId: string,
    readonly messageId: string,
  ) {
    super();
  }
}
