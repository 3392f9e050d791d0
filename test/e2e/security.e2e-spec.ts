import { randomBytes } from 'node:crypto';
import {
  currentTestRun,
  freePort,
  openBrowser,
  spawnApp,
  testRunEnv,
  type SpawnedApp,
  waitForHealthy,
} from '@email-core/testing';

/**
 * The security pass of issue 8 against the real producer process on the real stack (docs/security.md): helmet
 * headers and the dashboard's CSP, the CORS allow-list, the refresh cookie's flags behind an https public URL,
 * the rate limits of the auth and webhook endpoints (Redis Cluster counters), body size limits, unknown fields
 * refused, and no stack trace or framework banner in any answer.
 */

const run = currentTestRun();
// the producer's own key prefix (under the run's): its per-IP counters for 127.0.0.1 meet no other suite's
const keyPrefix = `${run.redisKeyPrefix}security-e2e:`;
const ALLOWED_ORIGIN = 'https://mail.example.test';
const WEBHOOK_LIMIT = 15;
const REFRESH_LIMIT = 4;

interface Reply {
  status: number;
  text: string;
  body: Record<string, unknown>;
  headers: Headers;
}

describe('security pass (real producer, real stack)', () => {
  let app: SpawnedApp;
  let base: string;

  async function call(
    method: string,
    path: string,
    opts: { json?: unknown; raw?: string; headers?: Record<string, string> } = {},
  ): Promise<Reply> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.json !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${base}${path}`, {
      method,
      headers,
      body: opts.raw ?? (opts.json === undefined ? undefined : JSON.stringify(opts.json)),
      signal: AbortSignal.timeout(15000),
    });
    const text = await res.text();
    let body: Record<string, unknown> = {};
    try {
      body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      body = {};
    }
    return { status: res.status, text, body, headers: res.headers };
  }

  /** what no answer may ever carry */
  function expectNoLeak(r: Reply): void {
    expect(r.headers.get('x-powered-by')).toBeNull();
    expect(r.text).not.toMatch(/\bat [\w.<>]+ \(|node_modules|\.ts:\d+|Error: |stack/i);
  }

  const email = () => `sec-${randomBytes(4).toString('hex')}@example.com`;

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    app = spawnApp('producer', {
      ...testRunEnv(run),
      MS_CLIENT_ID: 'email-core-test',
      MS_CLIENT_SECRET: randomBytes(16).toString('hex'),
      JWT_SECRET: randomBytes(32).toString('hex'),
      TOKEN_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      REDIS_KEY_PREFIX: keyPrefix,
      PRODUCER_PORT: String(port),
      // served over https behind a proxy, as in production: the cookie must be Secure, HSTS sent
      PUBLIC_BASE_URL: 'https://mail.example.test',
      CORS_ORIGINS: `${ALLOWED_ORIGIN}, https://other.example.test`,
      WEBHOOK_RATE_LIMIT_PER_MINUTE: String(WEBHOOK_LIMIT),
      AUTH_REFRESH_RATE_LIMIT_PER_MINUTE: String(REFRESH_LIMIT),
    });
    await waitForHealthy(() => app, `${base}/health`);
  }, 90000);

  afterAll(async () => {
    await app?.stop();
  });

  describe('headers', () => {
    it('the dashboard page carries helmet headers and a CSP that allows only itself, its socket and images', async () => {
      const r = await call('GET', '/');
      expect(r.status).toBe(200);
      expect(r.text).toContain('<div id="root">');
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.headers.get('x-frame-options')).toBe('SAMEORIGIN');
      expect(r.headers.get('referrer-policy')).toBe('no-referrer');
      expect(r.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      expect(r.headers.get('strict-transport-security')).toMatch(/^max-age=\d+/);
      expect(r.headers.get('x-powered-by')).toBeNull();
      const csp = Object.fromEntries(
        (r.headers.get('content-security-policy') ?? '')
          .split(';')
          .map((d) => d.trim().split(/\s+/))
          .map(([name, ...values]) => [name, values]),
      ) as Record<string, string[]>;
      expect(csp['default-src']).toEqual(["'self'"]);
      expect(csp['script-src']).toEqual(["'self'"]);
      expect(csp['object-src']).toEqual(["'none'"]);
      expect(csp['frame-ancestors']).toEqual(["'none'"]);
      expect(csp['connect-src']).toEqual(["'self'", 'wss://mail.example.test']);
      expect(csp['img-src']).toEqual(expect.arrayContaining(['data:', 'http:', 'https:']));
      expect(csp['upgrade-insecure-requests']).toEqual([]);
    });

    it('the API answers, errors included, carry them too; the OpenAPI UI gets its own relaxed policy', async () => {
      const health = await call('GET', '/health');
      const missing = await call('GET', '/api/v1/no-such-route');
      for (const r of [health, missing]) {
        expect(r.headers.get('x-content-type-options')).toBe('nosniff');
        expect(r.headers.get('content-security-policy')).toContain("script-src 'self'");
        expectNoLeak(r);
      }
      const docs = await call('GET', '/api/docs');
      expect(docs.status).toBe(200);
      expect(docs.text).toContain('swagger-ui');
      expect(docs.headers.get('content-security-policy')).toContain("script-src 'self' 'unsafe-inline'");
    });
  });

  it('the OpenAPI UI renders in Chromium under its policy, with no console error', async () => {
    const session = await openBrowser({ baseUrl: base, name: 'security-swagger' });
    try {
      await session.page.goto('/api/docs');
      await session.page.locator('.swagger-ui .info .title').waitFor({ timeout: 20000 });
      expect(await session.page.locator('.opblock').count()).toBeGreaterThan(15);
      session.expectNoConsoleErrors();
    } finally {
      await session.close();
    }
  }, 60000);

  describe('CORS', () => {
    it('an allowed origin gets its own origin back with credentials; another gets no ACAO header', async () => {
      const preflight = (origin: string) =>
        call('OPTIONS', '/api/v1/auth/signin', {
          headers: {
            origin,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'content-type',
          },
        });
      const ok = await preflight(ALLOWED_ORIGIN);
      expect(ok.status).toBeLessThan(300);
      expect(ok.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
      expect(ok.headers.get('access-control-allow-credentials')).toBe('true');

      const evil = await preflight('https://evil.example.test');
      expect(evil.headers.get('access-control-allow-origin')).toBeNull();
      const evilGet = await call('GET', '/health', { headers: { origin: 'https://evil.example.test' } });
      expect(evilGet.headers.get('access-control-allow-origin')).toBeNull();
      // the default local origins are not allowed once CORS_ORIGINS says otherwise
      const local = await preflight('http://localhost:5173');
      expect(local.headers.get('access-control-allow-origin')).toBeNull();
    });

    it("exposes the request id to an allowed origin's script (X-Request-Id)", async () => {
      const allowed = await call('GET', '/health/live', { headers: { origin: ALLOWED_ORIGIN } });
      expect(allowed.headers.get('x-request-id')).toMatch(/^[A-Za-z0-9._:-]{1,128}$/);
      expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
      expect(allowed.headers.get('access-control-expose-headers')).toBe('X-Request-Id');
    });
  });

  describe('the refresh cookie', () => {
    it('is HttpOnly, SameSite=Strict, Secure (https public URL) and scoped to /api/v1/auth', async () => {
      const r = await call('POST', '/api/v1/auth/signup', {
        json: { email: email(), password: 'correct horse battery' },
      });
      expect(r.status).toBe(201);
      const cookie = r.headers.getSetCookie().find((c) => c.startsWith('ec_refresh='));
      expect(cookie).toBeDefined();
      const attrs = (cookie ?? '').split(';').map((a) => a.trim().toLowerCase());
      expect(attrs).toEqual(
        expect.arrayContaining(['httponly', 'samesite=strict', 'secure', 'path=/api/v1/auth']),
      );
    });
  });

  describe('rate limits', () => {
    it(`refresh: ${REFRESH_LIMIT} per IP per minute, then 429 RATE_LIMITED with Retry-After`, async () => {
      const statuses: number[] = [];
      let last: Reply | undefined;
      for (let i = 0; i < REFRESH_LIMIT + 2; i++) {
        last = await call('POST', '/api/v1/auth/refresh', { headers: { cookie: 'ec_refresh=not-a-token' } });
        statuses.push(last.status);
      }
      expect(statuses).toEqual([...Array<number>(REFRESH_LIMIT).fill(401), 429, 429]);
      expect(last?.body).toEqual({ error: 'RATE_LIMITED', message: expect.any(String) as unknown });
      expect(Number(last?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Number(last?.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    });

    it('sign-in: per address and email (AuthThrottle), 5 free failures, then 429 with Retry-After', async () => {
      const address = email();
      const statuses: number[] = [];
      let last: Reply | undefined;
      for (let i = 0; i < 7; i++) {
        last = await call('POST', '/api/v1/auth/signin', {
          json: { email: address, password: 'wrong-password' },
        });
        statuses.push(last.status);
      }
      // five failures from this address close it for this email for 1 s, then 2 s, 4 s... (not a global lock)
      expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
      expect(statuses.slice(5)).toContain(429);
      expect(last?.body.error).toBe('RATE_LIMITED');
      expect(Number(last?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    });

    it('TRUST_PROXY unset (the default): X-Forwarded-For is ignored, so a client cannot pick a fresh address', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 22; i++) {
        const r = await call('POST', '/api/v1/auth/signin', {
          json: { email: email(), password: 'wrong-password' },
          headers: { 'x-forwarded-for': `198.51.100.${i + 1}` },
        });
        statuses.push(r.status);
      }
      // the test's own address (shared with the sign-ins above) reaches its 20 a minute whatever it claims
      expect(statuses).toContain(429);
      expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(20);
    });

    it(`the Graph webhook: ${WEBHOOK_LIMIT} POSTs per IP per minute (configured), then 429 before the body is read`, async () => {
      const statuses: number[] = [];
      let last: Reply | undefined;
      for (let i = 0; i < WEBHOOK_LIMIT + 3; i++) {
        const path = i % 2 === 0 ? '/api/v1/graph/notifications' : '/api/v1/graph/lifecycle';
        last = await call('POST', path, { json: { value: [] } });
        statuses.push(last.status);
      }
      expect(statuses.slice(0, WEBHOOK_LIMIT).every((s) => s === 202)).toBe(true);
      expect(statuses.slice(WEBHOOK_LIMIT)).toEqual([429, 429, 429]);
      expect(last?.body).toEqual({ error: 'RATE_LIMITED', message: expect.any(String) as unknown });
      expect(Number(last?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expectNoLeak(last as Reply);
    });
  });

  describe('request size limits', () => {
    it('a JSON body over 100 kB is 413 PAYLOAD_TOO_LARGE on an ordinary route', async () => {
      const r = await call('POST', '/api/v1/auth/signup', {
        json: { email: email(), password: 'p'.repeat(150 * 1024) },
      });
      expect(r.status).toBe(413);
      expect(r.body).toEqual({ error: 'PAYLOAD_TOO_LARGE', message: expect.any(String) as unknown });
      expectNoLeak(r);
    });

    it('so is a form body', async () => {
      const r = await call('POST', '/api/v1/auth/signin', {
        raw: `email=a%40b.c&password=${'x'.repeat(150 * 1024)}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(r.status).toBe(413);
      expect(r.body.error).toBe('PAYLOAD_TOO_LARGE');
    });
  });

  describe('validation', () => {
    it('an unknown body field is refused with VALIDATION_FAILED naming it (sign-up, sign-in)', async () => {
      for (const path of ['/api/v1/auth/signup', '/api/v1/auth/signin']) {
        const r = await call('POST', path, {
          json: { email: email(), password: 'correct horse battery', isAdmin: true },
        });
        expect(r.status).toBe(400);
        expect(r.body.error).toBe('VALIDATION_FAILED');
        expect(JSON.stringify(r.body.details)).toContain('isAdmin');
        expect(r.body.message).toContain('isAdmin');
      }
    });

    it('an unknown query parameter is refused too', async () => {
      const signUp = await call('POST', '/api/v1/auth/signup', {
        json: { email: email(), password: 'correct horse battery' },
      });
      const token = signUp.body.accessToken as string;
      const r = await call(
        'GET',
        `/api/v1/accounts/${randomBytes(8).toString('hex')}/changes?since=0&debug=1`,
        {
          headers: { authorization: `Bearer ${token}` },
        },
      );
      expect(r.status).toBe(400);
      expect(r.body.error).toBe('VALIDATION_FAILED');
      expect(r.body.message).toContain('debug');
    });

    it('so is one on a route that takes none, and a body on a route that takes no body', async () => {
      const signUp = await call('POST', '/api/v1/auth/signup', {
        json: { email: email(), password: 'correct horse battery' },
      });
      const auth = { authorization: `Bearer ${signUp.body.accessToken as string}` };
      const list = await call('GET', '/api/v1/accounts?debug=1', { headers: auth });
      expect(list.status).toBe(400);
      expect(list.body).toMatchObject({
        error: 'VALIDATION_FAILED',
        details: [{ path: 'debug', code: 'unrecognized_keys', message: 'unknown query parameter' }],
      });
      const resync = await call('POST', '/api/v1/accounts/00000000-0000-4000-8000-000000000000/resync', {
        json: { force: true },
        headers: auth,
      });
      expect(resync.status).toBe(400);
      expect(resync.body.message).toContain('force');
      // the routes still work without them
      expect((await call('GET', '/api/v1/accounts', { headers: auth })).status).toBe(200);
    });
  });

  describe('no stack traces, no banners', () => {
    it('malformed JSON, unknown routes, bad methods and bad URL escapes answer {error, message} only', async () => {
      const replies = [
        await call('POST', '/api/v1/auth/signin', {
          raw: '{"email": "a@b.c", "password": ',
          json: undefined,
          headers: { 'content-type': 'application/json' },
        }),
        await call('GET', '/api/v1/../../etc/passwd'),
        await call('GET', '/api/v1/%E0%A4%A'),
        await call('PATCH', '/api/v1/auth/signin'),
        await call('GET', '/api/v1/accounts/%00'),
        await call('POST', '/api/v1/commands', {
          raw: '[[[[',
          headers: { 'content-type': 'application/json', authorization: 'Bearer x.y.z' },
        }),
      ];
      for (const r of replies) {
        expect(r.status).toBeGreaterThanOrEqual(400);
        expect(r.status).toBeLessThan(500);
        expect(Object.keys(r.body).sort()).toEqual(expect.arrayContaining(['error', 'message']));
        expect(typeof r.body.error).toBe('string');
        expectNoLeak(r);
      }
      expect(replies[0]?.body).toEqual({
        error: 'VALIDATION_FAILED',
        message: 'the request body is not valid JSON',
      });
      expect(replies[3]?.status).toBe(404);
      // JSON.parse's own message would quote the body back, password included
      const echo = await call('POST', '/api/v1/auth/signin', {
        raw: '{"email": "a@b.c", "password": hunter2-secret-value}',
        headers: { 'content-type': 'application/json' },
      });
      expect(echo.body).toEqual({
        error: 'VALIDATION_FAILED',
        message: 'the request body is not valid JSON',
      });
      expect(echo.text).not.toContain('hunter2');
    });
  });
});
