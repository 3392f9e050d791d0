import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { MAX_ATTACHMENTS, MAX_INLINE_ATTACHMENT_BYTES } from '@email-core/contracts';
import { COMMAND_BODY_LIMIT_BYTES, commandBody } from './command-body-limit';

/** mounted the way main.ts mounts it in front of Nest's parsers (here: express.json() with its 100 kB) */
describe('commandBody', () => {
  const LIMIT = 200_000;
  let server: http.Server;
  let base: string;
  const seen: Array<{ path: string; body: unknown }> = [];

  beforeAll(async () => {
    const app = express();
    app.use('/api/v1/commands', commandBody(LIMIT));
    app.use(express.json());
    app.post(/.*/, (req, res) => {
      seen.push({ path: req.path, body: req.body as unknown });
      res.status(202).end();
    });
    app.use(
      (
        err: { status?: number },
        _req: express.Request,
        res: express.Response,
        _next: express.NextFunction,
      ) => {
        res.status(err.status ?? 500).json({ error: 'FROM_NEXT' });
      },
    );
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  beforeEach(() => (seen.length = 0));

  const post = (path: string, body: string) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const padded = (bytes: number) => JSON.stringify({ pad: 'x'.repeat(bytes - 10) });

  it('parses bodies up to its own limit on POST /commands, far beyond the global 100 kB', async () => {
    const body = padded(150_000);
    expect((await post('/api/v1/commands', body)).status).toBe(202);
    expect(seen).toEqual([{ path: '/api/v1/commands', body: JSON.parse(body) as unknown }]);
  });

  it('413 PAYLOAD_TOO_LARGE in the API error shape above it, and the connection still answers', async () => {
    const res = await post('/api/v1/commands', padded(LIMIT + 10));
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({
      error: 'PAYLOAD_TOO_LARGE',
      message: `the request body is larger than ${LIMIT} bytes, the most a valid command can take`,
    });
    expect(seen).toEqual([]);
    expect((await post('/api/v1/commands', '{}')).status).toBe(202);
  });

  it('leaves every other route (and GET /commands/:id) to the global parser', async () => {
    expect((await post('/api/v1/commands/abc', padded(150_000))).status).toBe(413);
    expect((await post('/api/v1/other', padded(150_000))).status).toBe(413);
    // the global parser's own error (not ours) went to the app's error handling
    expect(await (await post('/api/v1/other', padded(150_000))).json()).toEqual({ error: 'FROM_NEXT' });
  });

  it('hands malformed JSON on as an error for the exception filter', async () => {
    const res = await post('/api/v1/commands', '{"action":');
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'FROM_NEXT' });
  });

  it('is sized for the largest valid command without uploads: a 1,000,000-character body in UTF-8, and the rest', () => {
    expect(COMMAND_BODY_LIMIT_BYTES).toBeGreaterThan(3 * 1_000_000 + 1024 * 1024 * 0.9);
    // no longer room for ten inline attachments at 3 MB: those are uploaded apart (POST /uploads)
    expect(COMMAND_BODY_LIMIT_BYTES).toBeLessThan(Math.ceil(MAX_INLINE_ATTACHMENT_BYTES / 3) * 4 + 4096);
    expect(COMMAND_BODY_LIMIT_BYTES).toBeLessThan((MAX_ATTACHMENTS * MAX_INLINE_ATTACHMENT_BYTES) / 4);
  });
});
