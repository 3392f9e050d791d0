import { Command } from '@nestjs/cqrs';
import type { CommandUploadView } from '@email-core/database';

export interface NewUpload {
  name: string;
  contentType: string;
  content: Buffer;
}

/** Stores an attachment ahead of the command that will send it (`POST /uploads`). */
export class CreateUploadCommand extends Command<CommandUploadView> {
  constructor(
    readonly userId: string,
    readonly upload: NewUpload,
  ) {
    super();
  }
}
