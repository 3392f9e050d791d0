import {
  Catch,
  HttpException,
  HttpStatus,
  Logger,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import type { Response } from 'express';
import { AppError, ERROR_CODE, statusOfKind } from './app-error';

/** The body of every error the API answers: a stable code, a human message, and sometimes machine detail. */
export interface ApiErrorBody {
  error: string;
  message: string;
  details?: unknown;
}

/** Codes for errors Nest or a library raised without one; 400s are all input problems. */
const CODE_BY_STATUS: Record<number, string> = {
  400: 'VALIDATION_FAILED',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  429: 'RATE_LIMITED',
  500: 'INTERNAL_ERROR',
};

/**
 * The producer's one error mapper (registered globally in main.ts):
 * - `AppError` → `{error: code, message, details?}` with its kind's status, and `Retry-After` when set;
 * - an `HttpException` whose body already carries a code (`{error: 'UNAUTHENTICATED', message}`) → that body;
 * - any other `HttpException` with Nest's default body (routing 404, body-parser 400/413...) → a code from its status;
 * - an `HttpException` with a custom body and no code (the health check's report) → that body, untouched;
 * - express's body parser errors (plain `http-errors`, not Nest exceptions): an oversized body → 413
 *   `PAYLOAD_TOO_LARGE`, malformed JSON → 400 `VALIDATION_FAILED` (as for every other input problem), another 4xx → its status;
 * - a query before the database connection is up (TypeORM's "Driver not Connected") → 503 `DATABASE_UNAVAILABLE`
 *   with `Retry-After: 1`;
 * - anything else → 500 `INTERNAL_ERROR`, logged here with its stack, never sent.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('ApiExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const res = host.switchToHttp().getResponse<Response>();
    const { status, body, retryAfterSeconds } = this.toResponse(exception);
    if (res.headersSent) return;
    if (retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(retryAfterSeconds));
    res.status(status).json(body);
  }

  toResponse(exception: unknown): { status: number; body: unknown; retryAfterSeconds?: number } {
    if (exception instanceof AppError) {
      const status = statusOfKind(exception.kind);
      if (status >= 500) this.logger.error(`${exception.code}: ${exception.message}`, exception.stack);
      const body: ApiErrorBody = { error: exception.code, message: exception.message };
      if (exception.details !== undefined) body.details = exception.details;
      const retry = exception.retryAfterSeconds;
      return {
        status,
        body,
        retryAfterSeconds: retry === undefined ? undefined : Math.max(1, Math.ceil(retry)),
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const raw = exception.getResponse();
      if (typeof raw === 'object' && raw !== null) {
        const r = raw as Record<string, unknown>;
        if (typeof r.error === 'string' && ERROR_CODE.test(r.error)) {
          const body: ApiErrorBody = { error: r.error, message: messageOf(r.message, exception.message) };
          if (r.details !== undefined) body.details = r.details;
          return { status, body };
        }
        if (!('statusCode' in r)) return { status, body: raw };
        return { status, body: defaultBody(status, messageOf(r.message, exception.message)) };
      }
      return { status, body: defaultBody(status, messageOf(raw, exception.message)) };
    }
    const parser = bodyParserError(exception);
    if (parser) return parser;
    if (databaseNotConnected(exception)) {
      // the process is up before its database connection (DatabaseModule connects in the background): not a bug
      this.logger.warn(`database not connected yet: ${(exception as Error).message}`);
      return {
        status: 503,
        body: {
          error: 'DATABASE_UNAVAILABLE',
          message: 'the database is not reachable right now; try again',
        },
        retryAfterSeconds: 1,
      };
    }
    this.logger.error(
      `unhandled ${exception instanceof Error ? exception.name : typeof exception}`,
      exception instanceof Error ? exception.stack : undefined,
    );
    return { status: 500, body: defaultBody(500, 'internal error') };
  }
}

/** TypeORM's answer to a query before the DataSource has connected (or after it was destroyed). */
function databaseNotConnected(exception: unknown): boolean {
  return (
    exception instanceof Error &&
    /^(TypeORMError|CannotExecuteNotConnectedError|ConnectionNotFoundError)$/.test(exception.name) &&
    /Driver not Connected|connection is not yet established|not connected/i.test(exception.message)
  );
}

function defaultBody(status: number, message: string): ApiErrorBody {
  const name = (HttpStatus as unknown as Record<number, string | undefined>)[status];
  return { error: CODE_BY_STATUS[status] ?? name ?? `HTTP_${status}`, message };
}

function messageOf(value: unknown, fallback: string): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.join('; ');
  return fallback;
}

/** express's body parser rejects a request with an `http-errors` error that carries `type`, `status` and `expose`. */
function bodyParserError(exception: unknown): { status: number; body: ApiErrorBody } | undefined {
  if (!(exception instanceof Error)) return undefined;
  const e = exception as Error & { type?: unknown; status?: unknown; expose?: unknown };
  if (typeof e.status !== 'number' || e.status < 400 || e.status >= 500 || e.expose !== true)
    return undefined;
  if (e.type === 'entity.too.large' || e.status === 413) {
    return { status: 413, body: { error: 'PAYLOAD_TOO_LARGE', message: 'the request body is too large' } };
  }
  if (e.type === 'entity.parse.failed') {
    return {
      status: 400,
      body: { error: 'VALIDATION_FAILED', message: 'the request body is not valid JSON' },
    };
  }
  return { status: e.status, body: defaultBody(e.status, e.message) };
}
