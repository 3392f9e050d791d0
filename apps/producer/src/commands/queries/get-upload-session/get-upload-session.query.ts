import { Query } from '@nestjs/cqrs';
import type { CommandUploadView } from '@email-core/database';

/** Where an upload session stands (`GET /uploads/{id}`): how to resume it. */
export class GetUploadSessionQuery extends Query<CommandUploadView> {
  constructor(
    readonly userId: string,
    readonly uploadId: string,
  ) {
    super();
  }
}
