import { randomUUID } from 'node:crypto';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { MAX_PENDING_UPLOADS, UPLOAD_TTL_HOURS } from '@email-core/contracts';
import { CommandUploadsRepository, type CommandUploadView } from '@email-core/database';
import { CommandErrors } from '../../command-errors';
import { CreateUploadCommand } from './create-upload.command';

/**
 * Stores an upload (its size already bounded by the body reader, uploadBody) for UPLOAD_TTL_HOURS, owned by the
 * user; a user with MAX_PENDING_UPLOADS waiting gets 409 TOO_MANY_UPLOADS, so uploads never sent cannot pile up.
 */
@CommandHandler(CreateUploadCommand)
export class CreateUploadHandler implements ICommandHandler<CreateUploadCommand> {
  constructor(private readonly uploads: CommandUploadsRepository) {}

  async execute({ userId, upload }: CreateUploadCommand): Promise<CommandUploadView> {
    if (upload.content.length === 0) throw CommandErrors.emptyUpload();
    const stored = await this.uploads.create({
      id: randomUUID(),
      userId,
      ...upload,
      ttlMs: UPLOAD_TTL_HOURS * 3600_000,
      maxPending: MAX_PENDING_UPLOADS,
    });
    if (!stored) throw CommandErrors.tooManyUploads(MAX_PENDING_UPLOADS);
    return stored;
  }
}
