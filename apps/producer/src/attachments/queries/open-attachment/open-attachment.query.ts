import { Query } from '@nestjs/cqrs';
import type { Readable } from 'node:stream';

export interface AttachmentDownload {
  name: string;
  /** the provider's, checked to be a well-formed media type */
  contentType: string;
  contentLength: number | null;
  /** the provider's bytes as they arrive; the caller must read or destroy it (that ends the provider's request) */
  body: Readable;
}

/** One attachment's bytes, streamed from its provider. */
export class OpenAttachmentQuery extends Query<AttachmentDownload> {
  constructor(
    readonly userId: string,
    readonly messageId: string,
    readonly attachmentId: string,
  ) {
    super();
  }
}
