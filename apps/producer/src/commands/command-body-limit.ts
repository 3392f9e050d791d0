import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { MAX_ATTACHMENTS, MAX_INLINE_ATTACHMENT_BYTES } from '@email-core/contracts';

/** `POST /api/v1/commands`, the one route main.ts gives a larger JSON body limit */
export const COMMANDS_ROUTE = 'commands';

/** base64 of the largest inline attachment */
const MAX_ATTACHMENT_BASE64 = Math.ceil(MAX_INLINE_ATTACHMENT_BYTES / 3) * 4;

/**
 * The largest valid command: MAX_ATTACHMENTS attachments at the inline limit (base64, 4 MiB each) plus room for
 * the rest at the schema's maxima (a 1,000,000-character body or comment, up to 3 bytes a character in UTF-8,
 * 1,500 recipients, names, subject): about 45 MiB. Anything larger cannot be a valid command.
 */
export const COMMAND_BODY_LIMIT_BYTES = MAX_ATTACHMENTS * (MAX_ATTACHMENT_BASE64 + 1024) + 5 * 1024 * 1024;

/**
 * The JSON parser for `POST /commands`, mounted in main.ts before Nest's own parsers (100 kB for every other
 * route, unchanged): it parses the body with COMMAND_BODY_LIMIT_BYTES, and Nest's parser then sees a body already
 * read and skips it. A larger body is 413 `PAYLOAD_TOO_LARGE` in the API's error shape, at once when
 * Content-Length announces it (without reading it). Malformed JSON goes on to Nest's exception filter (400).
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
