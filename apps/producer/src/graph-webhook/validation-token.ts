import type { Response } from 'express';
import { WebhookErrors } from './webhook-errors';

/** Graph's tokens are a sentence and a request id (about 120 characters); far longer is not Graph */
export const MAX_VALIDATION_TOKEN_LENGTH = 1024;

/**
 * The `validationToken` of a subscription's validation request, URL-decoded (Express's query parser decodes
 * `%XX` and `+`), or undefined when the request is not one. Given twice or absurdly long: 400.
 */
export function validationTokenOf(query: Record<string, unknown>): string | undefined {
  if (!Object.prototype.hasOwnProperty.call(query, 'validationToken')) return undefined;
  const token = query.validationToken;
  if (typeof token !== 'string' || token.length > MAX_VALIDATION_TOKEN_LENGTH) {
    throw WebhookErrors.invalidValidationToken(MAX_VALIDATION_TOKEN_LENGTH);
  }
  return token;
}

/**
 * The handshake's answer, exactly per contract: 200, `text/plain`, the token and nothing else. `nosniff` and the
 * explicit type keep a browser from ever reading a token that holds markup as HTML.
 */
export function answerValidation(res: Response, token: string): void {
  res
    .status(200)
    .set({
      'Content-Type': 'text/plain; charset=utf-8',
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-store',
    })
    .send(Buffer.from(token, 'utf8'));
}
