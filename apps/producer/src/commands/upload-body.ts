import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { MAX_INLINE_ATTACHMENT_BYTES } from '@email-core/contracts';
import { refuseBeforeBody } from '../security/before-body';
import { CommandErrors } from './command-errors';

/** `POST /api/v1/uploads`: an attachment's raw bytes (main.ts mounts the reader below on it) */
export const UPLOADS_ROUTE = 'uploads';

/**
 * The upload's body reader, mounted in main.ts after the caller is authenticated and rate-limited and before
 * Nest's parsers: it reads the raw bytes whatever the Content-Type (the file's own) into `req.body` as a Buffer,
 * with a hard limit of `maxBytes`. A body that announces more is 413 `ATTACHMENT_TOO_LARGE` before a byte is
 * read; one that turns out larger is answered as soon as it crosses the limit, what it had sent is dropped, and
 * the connection is closed rather than the rest read.
 */
export function uploadBody(maxBytes: number = MAX_INLINE_ATTACHMENT_BYTES): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    // mounted on the route's path: only the collection itself (`/uploads`, `/uploads/`) takes a body
    if (req.method !== 'POST' || (req.path !== '/' && req.path !== '')) return next();
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      refuseBeforeBody(res, CommandErrors.uploadTooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= maxBytes) {
        chunks.push(chunk);
        return;
      }
      settled = true;
      chunks.length = 0;
      req.off('data', onData);
      req.pause();
      refuseBeforeBody(res, CommandErrors.uploadTooLarge());
    };
    req.on('data', onData);
    req.on('end', () => {
      if (settled) return;
      settled = true;
      req.body = Buffer.concat(chunks, size);
      next();
    });
    // a client that goes away mid-body: nothing to answer, nothing to do
    req.on('error', () => {
      settled = true;
    });
  };
}
