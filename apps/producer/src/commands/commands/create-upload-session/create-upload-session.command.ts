import { Command } from '@nestjs/cqrs';
import type { CommandUploadView } from '@email-core/database';

export interface NewUploadSessionRequest {
  name: string;
  contentType: string;
  size: number;
}

/** Opens an upload session for a file sent in chunks (`POST /uploads/sessions`). */
export class CreateUploadSessionCommand extends Command<CommandUploadView> {
  constructor(
    readonly userId: string,
    readonly session: NewUploadSessionRequest,
  ) {
    super();
  }
}
