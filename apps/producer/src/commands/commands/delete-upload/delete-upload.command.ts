import { Command } from '@nestjs/cqrs';

/** Drops an upload the user no longer wants (`DELETE /uploads/{id}`): its bytes go, its quota is freed. */
export class DeleteUploadCommand extends Command<void> {
  constructor(
    readonly userId: string,
    readonly uploadId: string,
  ) {
    super();
  }
}
