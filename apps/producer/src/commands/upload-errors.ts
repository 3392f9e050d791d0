import { HttpException, HttpStatus } from '@nestjs/common';
import {
  MAX_ATTACHMENT_BYTES,
  MAX_PENDING_UPLOAD_BYTES,
  UPLOAD_CHUNK_MAX_BYTES,
} from '@email-core/contracts';
import { AppError } from '../http/app-error';

/** The refusals of upload sessions (`/uploads/sessions`, `PUT|GET|DELETE /uploads/{id}`; docs/attachments.md). */
export const UploadErrors = {
  sessionTooLarge: (size: number) =>
    new HttpException(
      {
        error: 'ATTACHMENT_TOO_LARGE',
        message: `an attachment may be at most ${MAX_ATTACHMENT_BYTES} bytes (150 MB); this one is ${size}`,
        details: { size, maxBytes: MAX_ATTACHMENT_BYTES },
      },
      HttpStatus.PAYLOAD_TOO_LARGE,
    ),
  tooManyPendingBytes: () =>
    new AppError(
      'TOO_MANY_UPLOAD_BYTES',
      'conflict',
      `the uploads waiting for their command may hold at most ${MAX_PENDING_UPLOAD_BYTES} bytes at once; ` +
        'send (or delete, or let expire) the ones waiting',
      { details: { maxBytes: MAX_PENDING_UPLOAD_BYTES } },
    ),
  /** a chunk over the chunk limit, answered before the rest of it is read */
  chunkTooLarge: () =>
    new HttpException(
      {
        error: 'CHUNK_TOO_LARGE',
        message: `a chunk may be at most ${UPLOAD_CHUNK_MAX_BYTES} bytes`,
        details: { maxBytes: UPLOAD_CHUNK_MAX_BYTES },
      },
      HttpStatus.PAYLOAD_TOO_LARGE,
    ),
  invalidRange: (why: string) =>
    new AppError(
      'INVALID_CONTENT_RANGE',
      'invalid',
      `Content-Range: ${why} (expected "bytes <first>-<last>/<size>")`,
    ),
  /** the chunk does not start where the session stands: resume at `received` */
  rangeNotExpected: (received: number, size: number) =>
    new HttpException(
      {
        error: 'UPLOAD_RANGE_NOT_EXPECTED',
        message: `chunks go in order: the next one starts at byte ${received}`,
        details: { received, size },
      },
      HttpStatus.REQUESTED_RANGE_NOT_SATISFIABLE,
    ),
  sessionNotFound: () =>
    new AppError(
      'UPLOAD_NOT_FOUND',
      'not_found',
      'no such upload session of yours (unknown, expired or sent)',
    ),
  /** a command names a session that has not received all its bytes */
  incomplete: (index: number, uploadId: string, received: number, size: number) =>
    new AppError(
      'UPLOAD_INCOMPLETE',
      'conflict',
      `attachment ${index} names an upload that has ${received} of its ${size} bytes; finish it first`,
      { details: { index, uploadId, received, size } },
    ),
} as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An upload id from the path, lower-cased; a malformed one reads like an unknown one (404 UPLOAD_NOT_FOUND). */
export function uploadIdOf(raw: string): string {
  if (!UUID.test(raw)) throw UploadErrors.sessionNotFound();
  return raw.toLowerCase();
}
