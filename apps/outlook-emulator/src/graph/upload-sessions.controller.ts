import { All, Controller, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { originOf } from '../http/origin';
import { MAX_SESSION_BYTES, UploadSessions, type SessionResponse } from './upload-sessions';

/**
 * The upload URLs of Graph's upload sessions, which Outlook serves on outlook.office.com under `/api/v2.0/` and
 * the emulator on its own host: pre-authenticated by the `authtoken` in the URL (no Authorization header), so
 * outside Graph's dispatcher. The body is the file's raw bytes, read here (the JSON parser leaves them alone).
 */
@Controller('api/v2.0')
export class UploadSessionsController {
  constructor(private readonly sessions: UploadSessions) {}

  @All('*path')
  async handle(@Req() req: Request, @Res() res: Response): Promise<void> {
    const origin = originOf(req);
    const token = new URL(req.originalUrl, origin).searchParams.get('authtoken');
    let out: SessionResponse;
    switch (req.method) {
      case 'PUT': {
        const bytes = await readBody(req, MAX_SESSION_BYTES);
        out =
          bytes === null
            ? { status: 413, body: { error: { code: 'ErrorRequestEntityTooLarge', message: 'Too large.' } } }
            : this.sessions.put(origin, req.path, token, req.headers['content-range'], bytes);
        break;
      }
      case 'GET':
        out = this.sessions.status(origin, req.path, token);
        break;
      case 'DELETE':
        out = this.sessions.cancel(req.path, token);
        break;
      default:
        out = {
          status: 405,
          body: { error: { code: 'ErrorInvalidRequest', message: 'Method not allowed.' } },
        };
    }
    res.status(out.status);
    for (const [k, v] of Object.entries(out.headers ?? {})) res.setHeader(k, v);
    if (out.body === undefined) res.end();
    else res.json(out.body);
  }
}

/** the request's raw bytes, or null past `max` (the rest is not kept) */
function readBody(req: Request, max: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) parts.push(chunk);
    });
    req.on('end', () => resolve(size > max ? null : Buffer.concat(parts, size)));
    req.on('error', reject);
  });
}
