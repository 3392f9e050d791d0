import { randomUUID } from 'node:crypto';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import {
  MAX_ATTACHMENT_BYTES,
  MAX_PENDING_UPLOAD_BYTES,
  MAX_PENDING_UPLOADS,
  UPLOAD_TTL_HOURS,
} from '@email-core/contracts';
import { CommandUploadsRepository, type CommandUploadView } from '@email-core/database';
import { CommandErrors } from '../../command-errors';
import { UploadErrors } from '../../upload-errors';
import { CreateUploadSessionCommand } from './create-upload-session.command';

/**
 * Opens an upload session of the announced size (at most 150 MB), owned by the user for UPLOAD_TTL_HOURS. The
 * quotas count what waits: MAX_PENDING_UPLOADS uploads and MAX_PENDING_UPLOAD_BYTES announced bytes per user.
 */
@CommandHandler(CreateUploadSessionCommand)
export class CreateUploadSessionHandler implements ICommandHandler<CreateUploadSessionCommand> {
  constructor(private readonly uploads: CommandUploadsRepository) {}

  async execute({ userId, session }: CreateUploadSessionCommand): Promise<CommandUploadView> {
    if (session.size > MAX_ATTACHMENT_BYTES) throw UploadErrors.sessionTooLarge(session.size);
    const created = await this.uploads.createSession({
      id: randomUUID(),
      userId,
      ...session,
      ttlMs: UPLOAD_TTL_HOURS * 3600_000,
      maxPending: MAX_PENDING_UPLOADS,
      maxPendingBytes: MAX_PENDING_UPLOAD_BYTES,
    });
    if (created === 'too_many') throw CommandErrors.tooManyUploads(MAX_PENDING_UPLOADS);
    if (created === 'too_many_bytes') throw UploadErrors.tooManyPendingBytes();
    return created;
  }
}
