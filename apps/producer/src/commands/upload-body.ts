import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { MAX_INLINE_ATTACHMENT_BYTES, UPLOAD_CHUNK_MAX_BYTES } from '@email-core/contracts';
import { readBoundedBody } from '../http/bounded-body';
import { refuseBeforeBody } from '../security/before-body';
import { CommandErrors } from './command-errors';
import { UploadErrors } from './upload-errors';

/** `POST /api/v1/uploads`: an attachment's raw bytes (main.ts mounts the reader below on it) */
export const UPLOADS_ROUTE = 'uploads';

/**
 * Past the limit, at most this much more of an (authenticated) upload is read and dropped, so that a client still
 * sending gets to read its 413 instead of a reset; beyond it the connection is closed.
 */
const DISCARD_BYTES = 1024 * 1024;

/**
 * The upload's body reader, mounted in main.ts after the caller is authenticated and rate-limited and before
 * Nest's parsers: it reads the raw bytes whatever the Content-Type (the file's own) into `req.body` as a Buffer,
 * with a hard limit of `maxBytes`. A body that announces more is 413 `ATTACHMENT_TOO_LARGE` before a byte is
 * read; one that turns out larger is answered as soon as it crosses the limit. Nothing past the limit is ever
 * kept: up to DISCARD_BYTES more are read and dropped (the client reads the 413 reliably), and a body larger still
 * has its connection closed instead of being read.
 */
export function uploadBody(maxBytes: number = MAX_INLINE_ATTACHMENT_BYTES): RequestHandler {
  return boundedRawBody({
    // mounted on the route's path: only the collection itself (`/uploads`, `/uploads/`) takes a body
    applies: (req) => req.method === 'POST' && (req.path === '/' || req.path === ''),
    maxBytes,
    tooLarge: () => CommandErrors.uploadTooLarge(),
  });
}

/**
 * The reader of a session's chunk, `PUT /uploads/{id}`: the same bounded read, at most UPLOAD_CHUNK_MAX_BYTES
 * (413 CHUNK_TOO_LARGE). One chunk is the most a request ever holds in memory, whatever the file's size.
 */
export function uploadChunkBody(maxBytes: number = UPLOAD_CHUNK_MAX_BYTES): RequestHandler {
  return boundedRawBody({
    applies: (req) => req.method === 'PUT' && /^\/[^/]+\/?$/.test(req.path),
    maxBytes,
    tooLarge: () => UploadErrors.chunkTooLarge(),
  });
}

function boundedRawBody(o: {
  applies: (req: Request) => boolean;
  maxBytes: number;
  tooLarge: () => Error;
}): RequestHandler {
  const { maxBytes } = o;
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!o.applies(req)) return next();
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      // a little over: Node discards the rest once the 413 is written; far over: the connection closes unread
      refuseBeforeBody(res, o.tooLarge(), { close: declared > maxBytes + DISCARD_BYTES });
      return;
    }
    readBoundedBody(req, next, {
      maxBytes,
      refuse: () => refuseBeforeBody(res, o.tooLarge(), { close: false }),
      discardBytes: DISCARD_BYTES,
    });
  };
}
