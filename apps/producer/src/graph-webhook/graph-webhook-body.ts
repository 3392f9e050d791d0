import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { readBoundedBody } from '../http/bounded-body';
import { WebhookErrors } from './webhook-errors';

/** the webhook's routes under the API prefix; main.ts mounts the body reader on exactly these */
export const GRAPH_WEBHOOK_ROUTES = ['graph/notifications', 'graph/lifecycle'] as const;

/**
 * The webhook's own body reader, mounted in main.ts before Nest's JSON parser so the rest of the API keeps its
 * parsing untouched. It reads a POST's bytes whatever the Content-Type (Graph's validation request is
 * `text/plain`, its notifications `application/json`) and leaves them as a Buffer in `req.body`; the use case
 * parses them (so a malformed body still gets the API's `{error, message}` 400 through the exception filter).
 * Nest's parser sees a request whose body is already consumed and skips it.
 *
 * Bodies over `maxBytes` are answered 413 `PAYLOAD_TOO_LARGE` at once: when Content-Length announces it, without
 * reading the body; otherwise as soon as the limit is crossed. The rest is discarded as it arrives (never
 * buffered), and the connection stays usable, so the client reliably reads the 413 instead of a reset.
 */
export function graphWebhookBody(maxBytes: number): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.method !== 'POST') return next();
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      res.status(413).json(WebhookErrors.payloadTooLarge(maxBytes));
      return;
    }
    readBoundedBody(req, next, {
      maxBytes,
      refuse: () => res.status(413).json(WebhookErrors.payloadTooLarge(maxBytes)),
    });
  };
}
