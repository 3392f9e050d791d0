import { HttpException, HttpStatus } from '@nestjs/common';
import { MAX_BATCH_MESSAGES } from '@email-core/contracts';
import { AppError } from '../http/app-error';

const unprocessable = (error: string, message: string, details?: unknown) =>
  new HttpException(
    { error, message, ...(details === undefined ? {} : { details }) },
    HttpStatus.UNPROCESSABLE_ENTITY,
  );

/**
 * The refusals of `POST /commands/batches` and `GET /commands/batches/:id` of their own; the ones it shares with
 * `POST /commands` (ACCOUNT_NOT_FOUND, MESSAGE_NOT_FOUND, UNKNOWN_FOLDER) are CommandErrors'. Each is raised before
 * anything is stored.
 */
export const CommandBatchErrors = {
  folderNotFound: () =>
    new AppError(
      'FOLDER_NOT_FOUND',
      'not_found',
      "the selection's folder is not one of this account's folders",
    ),
  /** 422: the selection is well-formed, but matches no message (or every one it matches was excluded) */
  nothingSelected: () => unprocessable('NOTHING_SELECTED', 'the selection matches no message: nothing to do'),
  /** 422: more messages than one batch may carry; narrow the selection */
  tooLarge: () =>
    unprocessable(
      'BATCH_TOO_LARGE',
      `the selection matches more than ${MAX_BATCH_MESSAGES} messages, the most one batch may carry; narrow it ` +
        '(a folder, a filter, a date range) and act on the rest in another batch',
      { maxMessages: MAX_BATCH_MESSAGES },
    ),
  idConflict: () =>
    new AppError(
      'BATCH_ID_CONFLICT',
      'conflict',
      'this batch id was already used for another request; use a new id for a new batch',
    ),
  batchNotFound: () => new AppError('BATCH_NOT_FOUND', 'not_found', 'no such batch'),
} as const;
