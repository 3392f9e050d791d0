import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../http/app-error';

/** NUL, raw or percent-encoded: Postgres text and jsonb cannot hold it, so it never reaches a query */
const ENCODED_NUL = /%00/;

function holdsNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (depth > 64 || value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some((v) => holdsNul(v, depth + 1));
  return Object.entries(value as Record<string, unknown>).some(
    ([k, v]) => k.includes('\u0000') || holdsNul(v, depth + 1),
  );
}

/**
 * 400 `VALIDATION_FAILED` for a URL (path or query) or a parsed JSON body holding a NUL character. Postgres refuses
 * NUL in text and jsonb with an error that would otherwise surface as a 500 (found by the fuzz test: a message id
 * of `%00`). Mounted after the body parsers, so it sees every route's parsed body (the webhook's raw bytes are
 * parsed and checked by its own use case).
 */
export function rejectNul(req: Request, _res: Response, next: NextFunction): void {
  if (ENCODED_NUL.test(req.originalUrl) || req.originalUrl.includes('\u0000')) {
    return next(new AppError('VALIDATION_FAILED', 'invalid', 'the URL may not hold a NUL character'));
  }
  if (!Buffer.isBuffer(req.body) && holdsNul(req.body)) {
    return next(
      new AppError('VALIDATION_FAILED', 'invalid', 'the request body may not hold a NUL character'),
    );
  }
  next();
}
