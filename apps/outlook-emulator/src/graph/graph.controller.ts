import { All, Controller, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { originOf } from '../http/origin';
import { GraphDispatcher } from './graph-dispatcher';

/** the HTTP face of Graph v1.0: everything under /v1.0 goes through the dispatcher */
@Controller('v1.0')
export class GraphController {
  constructor(private readonly dispatcher: GraphDispatcher) {}

  @All('*path')
  async handle(@Req() req: Request, @Res() res: Response): Promise<void> {
    const q = req.originalUrl.indexOf('?');
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    const out = await this.dispatcher.execute(
      {
        method: req.method,
        path: req.path.replace(/^\/v1\.0\/?/, ''),
        query: new URLSearchParams(q >= 0 ? req.originalUrl.slice(q + 1) : ''),
        headers,
        body: req.body as unknown,
      },
      originOf(req),
    );
    res.status(out.status);
    for (const [k, v] of Object.entries(out.headers ?? {})) res.setHeader(k, v);
    if (out.body === undefined) {
      res.end();
    } else {
      res.end(
        typeof out.body === 'string' || Buffer.isBuffer(out.body) ? out.body : JSON.stringify(out.body),
      );
    }
  }
}
