import { QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { CommandUploadsRepository, type CommandUploadView } from '@email-core/database';
import { UploadErrors, uploadIdOf } from '../../upload-errors';
import { GetUploadSessionQuery } from './get-upload-session.query';

/** Someone else's session, an unknown, expired or malformed id all read as UPLOAD_NOT_FOUND. */
@QueryHandler(GetUploadSessionQuery)
export class GetUploadSessionQueryHandler implements IQueryHandler<GetUploadSessionQuery> {
  constructor(private readonly uploads: CommandUploadsRepository) {}

  async execute({ userId, uploadId }: GetUploadSessionQuery): Promise<CommandUploadView> {
    const session = await this.uploads.findSession(userId, uploadIdOf(uploadId));
    if (!session) throw UploadErrors.sessionNotFound();
    return session;
  }
}
