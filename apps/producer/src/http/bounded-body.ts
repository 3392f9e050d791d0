import type { NextFunction, Request } from 'express';

export interface BoundedBodyOptions {
  /** the most bytes kept; the body is refused as soon as it crosses this */
  maxBytes: number;
  /** answers the refusal (413), once, when the body crosses `maxBytes` */
  refuse: () => void;
  /**
   * After the refusal, at most this many more bytes are read and dropped (so a client still sending reads its 413
   * instead of a reset); beyond it the connection is closed. Unbounded by default: the rest is drained, never kept.
   */
  discardBytes?: number;
}

/**
 * Reads a request's raw bytes, whatever its Content-Type, into `req.body` as a Buffer and calls `next`, keeping
 * at most `maxBytes`: the body readers of the Graph webhook and of uploads, mounted before Nest's own parsers
 * (which then see a consumed body and skip it). A body that crosses the limit is refused at once; nothing past the
 * limit is ever buffered.
 */
export function readBoundedBody(req: Request, next: NextFunction, options: BoundedBodyOptions): void {
  const { maxBytes, refuse, discardBytes = Number.POSITIVE_INFINITY } = options;
  const chunks: Buffer[] = [];
  let size = 0;
  let settled = false;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (settled) {
      if (size > maxBytes + discardBytes) req.socket.destroy();
      return;
    }
    if (size <= maxBytes) {
      chunks.push(chunk);
      return;
    }
    settled = true;
    chunks.length = 0;
    refuse();
  });
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
}
