import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { graphWebhookBody } from './graph-webhook-body';

/** the middleware in front of express.json(), mounted the way main.ts mounts it in front of Nest's parsers */
describe('graphWebhookBody', () => {
  const LIMIT = 1000;
  let server: http.Server;
  let base: string;
  const seen: Array<{ path: string; body: unknown }> = [];

  beforeAll(async () => {
    const app = express();
    app.use(['/api/v1/graph/notifications', '/api/v1/graph/lifecycle'], graphWebhookBody(LIMIT));
    app.use(express.json());
    app.post(/.*/, (req, res) => {
      seen.push({ path: req.path, body: req.body as unknown });
      res.status(202).end();
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  beforeEach(() => (seen.length = 0));

  const post = (path: string, body: string | Buffer, contentType = 'application/json') =>
    fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body });

  it('hands the raw bytes on, whatever the Content-Type, up to the limit', async () => {
    const json = JSON.stringify({ value: [{ a: 'x'.repeat(LIMIT - 30) }] });
    expect((await post('/api/v1/graph/notifications', json)).status).toBe(202);
    expect((await post('/api/v1/graph/lifecycle', 'not json', 'text/plain')).status).toBe(202);
    expect(seen).toEqual([
      { path: '/api/v1/graph/notifications', body: Buffer.from(json) },
      { path: '/api/v1/graph/lifecycle', body: Buffer.from('not json') },
    ]);
  });

  it('413 PAYLOAD_TOO_LARGE when Content-Length announces too much, and the connection still answers', async () => {
    const res = await post('/api/v1/graph/notifications', Buffer.alloc(LIMIT + 1, 'a'));
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({
      error: 'PAYLOAD_TOO_LARGE',
      message: `a notification body may have at most ${LIMIT} bytes`,
    });
    const big = await post('/api/v1/graph/notifications', Buffer.alloc(5_000_000, 'a'));
    expect(big.status).toBe(413);
    expect(seen).toEqual([]);
    expect((await post('/api/v1/graph/notifications', '{}')).status).toBe(202);
  });

  it('413 for a chunked body once it crosses the limit', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${base}/api/v1/graph/notifications`, { method: 'POST' }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.write('a'.repeat(600));
      req.write('a'.repeat(600));
      req.end('a'.repeat(600));
    });
    expect(status).toBe(413);
    expect(seen).toEqual([]);
  });

  it("leaves every other route to the app's own JSON parser", async () => {
    const body = JSON.stringify({ big: 'x'.repeat(LIMIT * 2) });
    expect((await post('/api/v1/auth/login', body)).status).toBe(202);
    expect(seen).toEqual([{ path: '/api/v1/auth/login', body: JSON.parse(body) as unknown }]);
  });
});
