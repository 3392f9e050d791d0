import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CommandUploadsRepository } from '@email-core/database';
import { UploadErrors, uploadIdOf } from '../../upload-errors';
import { DeleteUploadCommand } from './delete-upload.command';

/**
 * Deletes one of the user's waiting uploads (a session's chunks cascade with it), so a file removed from the
 * compose form stops counting against the pending quotas at once. One already sent, expired, unknown or someone
 * else's is 404 UPLOAD_NOT_FOUND.
 */
@CommandHandler(DeleteUploadCommand)
export class DeleteUploadHandler implements ICommandHandler<DeleteUploadCommand> {
  constructor(private readonly uploads: CommandUploadsRepository) {}

  async execute({ userId, uploadId }: DeleteUploadCommand): Promise<void> {
    if (!(await this.uploads.remove(userId, uploadIdOf(uploadId)))) throw UploadErrors.sessionNotFound();
  }
}
