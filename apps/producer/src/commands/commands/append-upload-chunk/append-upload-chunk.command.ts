import { Command } from '@nestjs/cqrs';
import type { CommandUploadView } from '@email-core/database';

/** One chunk of an upload session (`PUT /uploads/{id}` with `Content-Range`), its bytes already bounded. */
export class AppendUploadChunkCommand extends Command<CommandUploadView> {
  constructor(
    readonly userId: string,
    readonly uploadId: string,
    readonly contentRange: string | undefined,
    readonly data: Buffer,
  ) {
    super();
  }
}
