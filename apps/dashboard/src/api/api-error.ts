/** An API failure as the server describes it: the HTTP status and the machine-readable `error` code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** the server's `Retry-After` in seconds, on a 429 (and some 503s) */
    readonly retryAfterSeconds?: number,
    /** the body's `details`, when it has them (which fields failed validation, which server refused) */
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}
