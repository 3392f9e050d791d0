import type { Response } from 'express';

/** the identity pages carry their own inline style and script and nothing else; never cached, never framed */
const PAGE_HEADERS = {
  'Cache-Control': 'no-store, no-cache',
  Pragma: 'no-cache',
  'Content-Security-Policy':
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'",
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
};

export function sendHtml(res: Response, status: number, html: string): void {
  res.status(status).set(PAGE_HEADERS).type('html').send(html);
}
