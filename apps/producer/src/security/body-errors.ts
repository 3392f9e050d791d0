import type { ErrorRequestHandler } from 'express';
import { AppError } from '../http/app-error';

/**
 * After the body parsers (main.ts): a body that is not valid JSON becomes 400 `VALIDATION_FAILED` with a fixed
 * message. Left alone, Nest would answer JSON.parse's own message, which quotes the start of the body (a password,
 * say) back to the client. Every other error passes on unchanged (ApiExceptionFilter maps 413 and the rest).
 */
export const bodyParseErrors: ErrorRequestHandler = (err: unknown, _req, _res, next) => {
  const e = err as { type?: unknown; status?: unknown } | null;
  if (err instanceof Error && e?.type === 'entity.parse.failed') {
    next(new AppError('VALIDATION_FAILED', 'invalid', 'the request body is not valid JSON', { cause: err }));
    return;
  }
  next(err);
};
