import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CommandUploadsRepository, type CommandUploadView } from '@email-core/database';
import { UploadErrors, uploadIdOf } from '../../upload-errors';
import { AppendUploadChunkCommand } from './append-upload-chunk.command';
import { parseContentRange } from './content-range';

/**
 * Stores one chunk of a session. Chunks go in order (each starts where the stored bytes end), so what a session
 * holds is always a prefix of the file and resuming is "ask `received`, send from there". A chunk sent again after
 * its answer was lost (same start, same length) is answered as stored, not stored twice.
 */
@CommandHandler(AppendUploadChunkCommand)
export class AppendUploadChunkHandler implements ICommandHandler<AppendUploadChunkCommand> {
  constructor(private readonly uploads: CommandUploadsRepository) {}

  async execute({
    userId,
    uploadId,
    contentRange,
    data,
  }: AppendUploadChunkCommand): Promise<CommandUploadView> {
    const id = uploadIdOf(uploadId);
    const session = await this.uploads.findSession(userId, id);
    if (!session) throw UploadErrors.sessionNotFound();
    if (data.length === 0) throw UploadErrors.invalidRange('a chunk must hold at least one byte');
    const range = parseContentRange(contentRange, data.length, session.size);
    const result = await this.uploads.appendChunk({ id, userId, start: range.start, data });
    switch (result.kind) {
      case 'stored':
      case 'repeated':
        return result.upload;
      case 'out_of_order':
        throw UploadErrors.rangeNotExpected(result.upload.received, result.upload.size);
      case 'not_found':
        throw UploadErrors.sessionNotFound();
    }
  }
}
