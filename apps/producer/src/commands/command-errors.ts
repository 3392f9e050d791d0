import { HttpException, HttpStatus } from '@nestjs/common';
import { MAX_INLINE_ATTACHMENT_BYTES } from '@email-core/contracts';
import { AppError } from '../http/app-error';

const MB = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(bytes % (1024 * 1024) === 0 ? 0 : 1)} MB`;

/**
 * The refusals of `POST /commands` and `GET /commands/:id`, each with a stable code. Every one of them is raised
 * before anything is stored or queued. Someone else's account, message or command reads exactly like a missing
 * one. Messages are shown to the client as-is.
 */
export const CommandErrors = {
  accountNotFound: () => new AppError('ACCOUNT_NOT_FOUND', 'not_found', 'no such account'),
  messageNotFound: (missing: string[]) =>
    new AppError(
      'MESSAGE_NOT_FOUND',
      'not_found',
      missing.length === 1
        ? 'the message is not in this account'
        : `${missing.length} of the messages are not in this account`,
      // the client's own ids, so it can tell which; at most 20 of them
      { details: { messageIds: missing.slice(0, 20) } },
    ),
  /** 422: the request is well-formed, but the folder is not one of the account's */
  unknownFolder: () =>
    new HttpException(
      {
        error: 'UNKNOWN_FOLDER',
        message:
          "the destination folder is not one of this account's folders (a folder id or well-known name)",
      },
      HttpStatus.UNPROCESSABLE_ENTITY,
    ),
  noRecipients: () =>
    new AppError('NO_RECIPIENTS', 'invalid', 'a mail needs at least one recipient (to, cc or bcc)'),
  invalidAttachment: (index: number, name: string) =>
    new AppError(
      'INVALID_ATTACHMENT',
      'invalid',
      `attachment ${index} ("${name}") is not valid base64 (RFC 4648, with padding, no line breaks)`,
      { details: { index } },
    ),
  attachmentTooLarge: (index: number, name: string, size: number) =>
    new HttpException(
      {
        error: 'ATTACHMENT_TOO_LARGE',
        message:
          `attachment ${index} ("${name}") is ${size} bytes; attachments are sent inline, up to ` +
          `${MB(MAX_INLINE_ATTACHMENT_BYTES)} (${MAX_INLINE_ATTACHMENT_BYTES} bytes) each; upload larger ones ` +
          '(POST /uploads/sessions, up to 150 MB) and name them by uploadId',
        details: { index, size, maxBytes: MAX_INLINE_ATTACHMENT_BYTES },
      },
      HttpStatus.PAYLOAD_TOO_LARGE,
    ),
  /** an upload one byte over the limit: answered before the rest of it is read */
  uploadTooLarge: () =>
    new HttpException(
      {
        error: 'ATTACHMENT_TOO_LARGE',
        message:
          `an upload in one request may be at most ${MB(MAX_INLINE_ATTACHMENT_BYTES)} ` +
          `(${MAX_INLINE_ATTACHMENT_BYTES} bytes); send larger files in chunks (POST /uploads/sessions, up to 150 MB)`,
        details: { maxBytes: MAX_INLINE_ATTACHMENT_BYTES },
      },
      HttpStatus.PAYLOAD_TOO_LARGE,
    ),
  emptyUpload: () => new AppError('VALIDATION_FAILED', 'invalid', 'an upload must hold at least one byte'),
  tooManyUploads: (max: number) =>
    new AppError(
      'TOO_MANY_UPLOADS',
      'conflict',
      `at most ${max} uploads may wait for their command at once; send (or let expire) the ones waiting`,
    ),
  /** unknown, expired, already attached to another command, or someone else's */
  uploadNotFound: (index: number, uploadId: string) =>
    new AppError(
      'UPLOAD_NOT_FOUND',
      'not_found',
      `attachment ${index} names no upload of yours (unknown, expired, or already sent with another command)`,
      { details: { index, uploadId } },
    ),
  duplicateUpload: (index: number) =>
    new AppError('INVALID_ATTACHMENT', 'invalid', `attachment ${index} names an upload named before`, {
      details: { index },
    }),
  idConflict: () =>
    new AppError(
      'COMMAND_ID_CONFLICT',
      'conflict',
      'this command id was already used for another request; use a new id for a new command',
    ),
  commandNotFound: () => new AppError('COMMAND_NOT_FOUND', 'not_found', 'no such command'),
} as const;
