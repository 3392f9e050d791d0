import createClient, { type Middleware } from 'openapi-fetch';
import { parseRetryAfter } from '@/lib/retry-after';
import { ApiError } from './api-error';
import type { components, paths } from './schema';

export { ApiError };

/** Every schema of the API, by name: `Schemas['MessageSummaryDto']`. */
export type Schemas = components['schemas'];

/**
 * The access token lives in memory only (never localStorage); the refresh token is an httpOnly cookie the
 * browser sends to `/api/v1/auth` alone. The session module sets and clears the token.
 */
let accessToken: string | null = null;
let onUnauthorized: (() => Promise<string | null>) | null = null;

export function setAccessToken(token: string | null): void {
  accessToken = token;
}

export function getAccessToken(): string | null {
  return accessToken;
}

/** Called once per 401 on a safe request; answers a fresh token (after a refresh) or null to give up. */
export function setUnauthorizedHandler(handler: (() => Promise<string | null>) | null): void {
  onUnauthorized = handler;
}

const auth: Middleware = {
  onRequest({ request }) {
    if (accessToken) request.headers.set('Authorization', `Bearer ${accessToken}`);
    return request;
  },
  async onResponse({ request, response }) {
    const safe = request.method === 'GET' || request.method === 'HEAD';
    if (response.status !== 401 || !safe || request.url.includes('/api/v1/auth/') || !onUnauthorized) {
      return response;
    }
    const token = await onUnauthorized();
    if (!token) return response;
    const retry = new Request(request);
    retry.headers.set('Authorization', `Bearer ${token}`);
    return fetch(retry);
  },
};

/** The one typed client: paths, parameters and bodies are checked against the OpenAPI document. */
export const api = createClient<paths>({ baseUrl: window.location.origin, credentials: 'same-origin' });
api.use(auth);

interface FetchResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The body of a successful call, or an `ApiError` carrying the server's code. */
export async function unwrap<T>(call: Promise<FetchResult<T>>): Promise<T> {
  const { data, error, response } = await call;
  if (response.ok) return data as T;
  const body = (error ?? {}) as { error?: unknown; message?: unknown; details?: unknown };
  throw new ApiError(
    response.status,
    typeof body.error === 'string' ? body.error : `HTTP_${response.status}`,
    typeof body.message === 'string' ? body.message : response.statusText || 'request failed',
    parseRetryAfter(response.headers.get('retry-after')),
    body.details,
  );
}

/** A user-facing sentence for any error thrown by a query or mutation. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return 'Something went wrong';
}
