/**
 * What went wrong, in terms a client can act on; ApiExceptionFilter turns each kind into one HTTP status.
 * Domain code picks a kind, never a status code.
 */
export type ErrorKind =
  | 'invalid'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'rate_limited'
  | 'unavailable'
  | 'internal';

export interface AppErrorOptions {
  /** machine-readable detail, e.g. which fields failed validation; must hold no secret */
  details?: unknown;
  /** for `rate_limited` and `unavailable`: sent as `Retry-After` (seconds) */
  retryAfterSeconds?: number;
  cause?: unknown;
}

/**
 * An error with a stable, machine-readable code (`EMAIL_TAKEN`, `ACCOUNT_NOT_FOUND`): throw it from any
 * handler, service or guard, and the client gets `{error: code, message, details?}` with the kind's status.
 * The message is shown to the client as-is: never put a secret, a token or a stack in it.
 */
export class AppError extends Error {
  readonly details?: unknown;
  readonly retryAfterSeconds?: number;

  constructor(
    readonly code: string,
    readonly kind: ErrorKind,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    if (!ERROR_CODE.test(code)) throw new Error(`error codes are UPPER_SNAKE_CASE, got "${code}"`);
    this.details = options.details;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export const ERROR_CODE = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*$/;

/** The HTTP status of each kind; the one place the mapping is written. */
export function statusOfKind(kind: ErrorKind): number {
  switch (kind) {
    case 'invalid':
      return 400;
    case 'unauthenticated':
      return 401;
    case 'forbidden':
      return 403;
    case 'not_found':
      return 404;
    case 'conflict':
      return 409;
    case 'rate_limited':
      return 429;
    case 'unavailable':
      return 503;
    case 'internal':
      return 500;
  }
}
