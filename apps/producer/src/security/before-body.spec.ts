import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { UnauthorizedException } from '@nestjs/common';
import express from 'express';
import type { RateLimiter } from '../auth/rate-limit/rate-limiter';
import { authenticateBeforeBody, refuseOversizedBody, userRateLimit } from './before-body';

/**
 * The middleware that answers before a body is read, mounted the way main.ts mounts it (before express.json),
 * behind a stand-in guard and rate limiter. `reads` counts the requests whose body a handler got to see.
 */
describe('before-body middleware', () => {
  let server: http.Server;
  let base: string;
  let reads = 0;
  let counted = 0;

  const guard = {
    canActivate: (ctx: { switchToHttp(): { getRequest(): express.Request & { user?: unknown } } }) => {
      const req = ctx.switchToHttp().getRequest();
      if (req.headers.authorization !== 'Bearer good') {
        return Promise.reject(
          new UnauthorizedException({ error: 'UNAUTHENTICATED', message: 'an access token is required' }),
        );
      }
      req.user = { id: 'u1', email: 'u1@example.test' };
      return Promise.resolve(true);
    },
  };
  const limiter = {
    consume: () => Promise.resolve({ count: ++counted, retryAfterSeconds: 42 }),
  } as unknown as RateLimiter;

  beforeAll(async () => {
    const app = express();
    app.use(
      '/big',
      authenticateBeforeBody(guard as never, ['POST']),
      userRateLimit(limiter, { scope: 't', rule: { limit: 2, windowMs: 60_000 }, methods: ['POST'] }),
      express.json({ limit: '1mb' }),
    );
    app.use(refuseOversizedBody(1000));
    app.use(express.json({ limit: 1000 }));
    app.post(/.*/, (req, res) => {
      reads += 1;
      res.status(200).json({ got: Object.keys(req.body as object).length });
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  beforeEach(() => {
    reads = 0;
    counted = 0;
  });

  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
  const json = (bytes: number) => JSON.stringify({ pad: 'x'.repeat(bytes - 10) });

  it("answers the guard's 401 without the body being read, and closes the connection", async () => {
    const res = await post('/big', json(50_000));
    expect(res.status).toBe(401);
    expect(res.headers.get('connection')).toBe('close');
    expect(await res.json()).toEqual({ error: 'UNAUTHENTICATED', message: 'an access token is required' });
    expect(reads).toBe(0);
  });

  it('lets an authenticated caller through to its own, larger parser, under the per-user limit', async () => {
    const res = await post('/big', json(50_000), { authorization: 'Bearer good' });
    expect(res.status).toBe(200);
    expect(reads).toBe(1);
  });

  it('over the per-user limit: 429 RATE_LIMITED with Retry-After, the body unread', async () => {
    for (let i = 0; i < 2; i += 1) {
      expect((await post('/big', '{}', { authorization: 'Bearer good' })).status).toBe(200);
    }
    const res = await post('/big', '{}', { authorization: 'Bearer good' });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('42');
    expect(((await res.json()) as { error: string }).error).toBe('RATE_LIMITED');
    expect(reads).toBe(2);
  });

  it('every other route: a body announced over the limit is 413 PAYLOAD_TOO_LARGE, unread', async () => {
    const res = await post('/other', json(1001));
    expect(res.status).toBe(413);
    expect(res.headers.get('connection')).toBe('close');
    expect(((await res.json()) as { error: string }).error).toBe('PAYLOAD_TOO_LARGE');
    expect(reads).toBe(0);
    expect((await post('/other', json(1000))).status).toBe(200);
  });
});
