import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';

/** `POST /api/v1/commands`, the one JSON route main.ts gives a larger body limit (after authentication) */
export const COMMANDS_ROUTE = 'commands';

/**
 * The largest valid command without large attachments: a 1,000,000-character body or comment (up to 3 bytes a
 * character in UTF-8: 3 MB), 1,500 recipients, names and subject, with room to spare: 4 MiB. Large attachments
 * are uploaded apart (`POST /uploads`, streamed, 3 MB each) and named by `uploadId`; small inline base64 ones
 * still fit, counted against this limit (docs/mail-actions.md). It used to be 45 MiB (ten 3 MB attachments in
 * base64), read before the caller was authenticated (issue 16).
 */
export const COMMAND_BODY_LIMIT_BYTES = 4 * 1024 * 1024;

/**
 * The JSON parser for `POST /commands`, mounted in main.ts after the caller is authenticated and rate-limited
 * (security/before-body.ts) and before Nest's own parsers (100 kB for every other route, unchanged): it parses
 * the body with COMMAND_BODY_LIMIT_BYTES, and Nest's parser then sees a body already read and skips it. A larger
 * body is 413 `PAYLOAD_TOO_LARGE` in the API's error shape, at once when
 * Content-Length announces it (never parsed; Node still drains what the client sends, which only a signed-in
 * caller within its rate limits can make it do). Malformed JSON goes on to Nest's exception filter (400).
 */
export function commandBody(limitBytes: number = COMMAND_BODY_LIMIT_BYTES): RequestHandler {
  const parse = express.json({ limit: limitBytes });
  return (req: Request, res: Response, next: NextFunction): void => {
    // mounted on the route's path: only the collection itself (`/commands`, `/commands/`) takes a body
    if (req.method !== 'POST' || (req.path !== '/' && req.path !== '')) return next();
    parse(req, res, (err?: unknown) => {
      if (isTooLarge(err)) {
        res.status(413).json({
          error: 'PAYLOAD_TOO_LARGE',
          message: `the request body is larger than ${limitBytes} bytes, the most a valid command can take`,
        });
        return;
      }
      next(err);
    });
  };
}

function isTooLarge(err: unknown): boolean {
  return (
    typeof err === 'object' &&
    err !== null &&
    ((err as { type?: unknown }).type === 'entity.too.large' || (err as { status?: unknown }).status === 413)
  );
}
