import { randomUUID } from 'node:crypto';

/** a Graph error answer: status, Graph's `error.code` and message, and any headers (Retry-After) */
export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly innerError: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const notFound = (): GraphError =>
  new GraphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');

/** Graph's documented 429 for an exhausted request budget (or an injected one), with its Retry-After */
export const tooManyRequests = (retryAfterSeconds: number): GraphError =>
  new GraphError(
    429,
    'TooManyRequests',
    'Please retry again later.',
    { 'Retry-After': String(retryAfterSeconds) },
    { code: '429', message: 'Please retry after', status: '429' },
  );

export const invalidRequest = (message: string, code = 'ErrorInvalidRequest'): GraphError =>
  new GraphError(400, code, message);

export function graphErrorBody(
  err: GraphError,
  requestId: string,
  clientRequestId: string | undefined,
): { error: Record<string, unknown> } {
  return {
    error: {
      code: err.code,
      message: err.message,
      innerError: {
        ...err.innerError,
        date: new Date().toISOString().replace(/\.\d{3}Z$/, ''),
        'request-id': requestId,
        'client-request-id': clientRequestId ?? requestId,
      },
    },
  };
}

export const newRequestId = (): string => randomUUID();
