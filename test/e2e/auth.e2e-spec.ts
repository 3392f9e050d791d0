import { createHash, randomBytes } from 'node:crypto';
import type { Cluster } from 'ioredis';
import { Client } from 'pg';
import { CacheKeys, createRedisCluster } from '@email-core/cache';
import {
  currentTestRun,
  freePort,
  spawnApp,
  testRunEnv,
  type SpawnedApp,
  waitForHealthy,
} from '@email-core/testing';

/**
 * Local sign-up, sign-in and sessions against the real producer process on the real stack: argon2id in
 * Postgres, rotating refresh cookies with reuse detection, and sign-in rate limits in the Redis Cluster.
 */

interface Reply {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
  /** the ec_refresh Set-Cookie line, if the response set one */
  refreshCookie?: string;
}

const run = currentTestRun();
// This producer's own key prefix (under the run's, so the run's teardown clears it): its sign-in counters for
// 127.0.0.1 then never meet those of other suites' producers.
const keyPrefix = `${run.redisKeyPrefix}auth-e2e:`;
const secrets = {
  MS_CLIENT_ID: 'email-core-test',
  MS_CLIENT_SECRET: randomBytes(16).toString('hex'),
  JWT_SECRET: randomBytes(32).toString('hex'),
  TOKEN_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
};
const email = (name: string) => `${name}-${randomBytes(4).toString('hex')}@example.com`;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** the cookie's value from a Set-Cookie line */
const cookieValue = (setCookie: string | undefined) => /^ec_refresh=([^;]*)/.exec(setCookie ?? '')?.[1] ?? '';

function decodeJwtPayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

describe('auth: sign-up, sign-in, sessions (real producer, real stack)', () => {
  let app: SpawnedApp;
  let base: string;
  let redis: Cluster;
  let db: Client;
  /** every secret this suite handled; none may appear in the producer's output */
  const secretsSeen: string[] = [];

  async function call(
    method: string,
    path: string,
    opts: { json?: unknown; rawBody?: string; token?: string; refresh?: string; from?: string } = {},
  ): Promise<Reply> {
    const headers: Record<string, string> = {};
    // the client address the proxy in front reports (TRUST_PROXY=loopback below trusts it)
    if (opts.from) headers['x-forwarded-for'] = opts.from;
    if (opts.json !== undefined || opts.rawBody !== undefined) headers['content-type'] = 'application/json';
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.refresh !== undefined) headers.cookie = `ec_refresh=${opts.refresh}`;
    const res = await fetch(`${base}${path}`, {
      method,
      headers,
      body: opts.rawBody ?? (opts.json === undefined ? undefined : JSON.stringify(opts.json)),
      signal: AbortSignal.timeout(15000),
    });
    const text = await res.text();
    const refreshCookie = res.headers.getSetCookie().find((c) => c.startsWith('ec_refresh='));
    const value = cookieValue(refreshCookie);
    if (value) secretsSeen.push(value);
    const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    if (typeof body.accessToken === 'string') secretsSeen.push(body.accessToken);
    return { status: res.status, body, headers: res.headers, refreshCookie };
  }

  const signUp = (e: string, password: string) =>
    call('POST', '/api/v1/auth/signup', { json: { email: e, password } });
  const signIn = (e: string, password: string, from?: string) =>
    call('POST', '/api/v1/auth/signin', { json: { email: e, password }, from });

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    app = spawnApp('producer', {
      ...testRunEnv(run),
      ...secrets,
      REDIS_KEY_PREFIX: keyPrefix,
      PRODUCER_PORT: String(port),
      // as behind ngrok or a local load balancer: the proxy (this test, on loopback) names the client
      TRUST_PROXY: 'loopback',
    });
    redis = createRedisCluster({ nodes: run.redisClusterNodes, keyPrefix });
    db = new Client({ connectionString: run.databaseUrl });
    await db.connect();
    await waitForHealthy(() => app, `${base}/health`);
  }, 90000);

  afterAll(async () => {
    await app?.stop();
    await redis?.quit();
    await db?.end();
  });

  describe('sign-up', () => {
    it('creates the user, returns an access token and sets the refresh cookie', async () => {
      const address = email('Alice');
      const password = 'correct horse battery';
      secretsSeen.push(password);
      const r = await signUp(`  ${address.toUpperCase()} `, password);
      expect(r.status).toBe(201);
      expect(Object.keys(r.body).sort()).toEqual(['accessToken', 'expiresIn', 'tokenType', 'user']);
      expect(r.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
      const user = r.body.user as Record<string, unknown>;
      expect(Object.keys(user).sort()).toEqual(['createdAt', 'email', 'id']);
      expect(user.email).toBe(address.toLowerCase());
      expect(r.headers.get('cache-control')).toBe('no-store');

      const claims = decodeJwtPayload(r.body.accessToken as string);
      expect(claims).toMatchObject({ sub: user.id, email: user.email, typ: 'access', iss: 'email-core' });
      expect((claims.exp as number) - (claims.iat as number)).toBe(900);

      expect(r.refreshCookie).toMatch(/^ec_refresh=[A-Za-z0-9_-]{43}; /);
      expect(r.refreshCookie).toMatch(/; Path=\/api\/v1\/auth(;|$)/);
      expect(r.refreshCookie).toMatch(/; HttpOnly(;|$)/);
      expect(r.refreshCookie).toMatch(/; SameSite=Strict(;|$)/);
      expect(r.refreshCookie).toMatch(/; Expires=/);
      expect(r.refreshCookie).not.toMatch(/Secure/); // PUBLIC_BASE_URL is http here

      // argon2id in the database, the refresh token only as its sha256
      const stored = await db.query<{ password_hash: string }>(
        'SELECT password_hash FROM users WHERE id = $1',
        [user.id],
      );
      expect(stored.rows[0]?.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
      const token = cookieValue(r.refreshCookie);
      const sessions = await db.query<{ token_hash: string }>(
        'SELECT token_hash FROM refresh_sessions WHERE user_id = $1',
        [user.id],
      );
      expect(sessions.rows.map((s) => s.token_hash)).toEqual([sha256(token)]);
    });

    it('refuses an address that is taken, whatever its case: 409 EMAIL_TAKEN', async () => {
      const address = email('bob');
      expect((await signUp(address, 'a long enough password')).status).toBe(201);
      const again = await signUp(address.toUpperCase(), 'another long password');
      expect(again.status).toBe(409);
      expect(again.body).toEqual({ error: 'EMAIL_TAKEN', message: expect.any(String) as string });
      expect(again.refreshCookie).toBeUndefined();
    });

    it.each([
      ['a short password', { email: 'carol@example.com', password: 'short' }, 'password', 'too_small'],
      ['a long password', { email: 'carol@example.com', password: 'x'.repeat(257) }, 'password', 'too_big'],
      [
        'a malformed email',
        { email: 'not-an-email', password: 'long enough password' },
        'email',
        'invalid_string',
      ],
      ['a missing email', { password: 'long enough password' }, 'email', 'invalid_type'],
      [
        'a non-string password',
        { email: 'carol@example.com', password: 1234567890123 },
        'password',
        'invalid_type',
      ],
    ])('rejects %s: 400 VALIDATION_FAILED naming the field and rule', async (_what, json, path, code) => {
      const r = await call('POST', '/api/v1/auth/signup', { json });
      expect(r.status).toBe(400);
      expect(r.body.error).toBe('VALIDATION_FAILED');
      expect(typeof r.body.message).toBe('string');
      expect(r.body.details).toEqual([{ path, code, message: expect.any(String) as string }]);
      expect(JSON.stringify(r.body)).not.toContain('1234567890123');
    });

    it('rejects a body that is not JSON: 400 VALIDATION_FAILED, no stack trace', async () => {
      const r = await call('POST', '/api/v1/auth/signup', { rawBody: '{"email": "x@example.com", ' });
      expect(r.status).toBe(400);
      expect(r.body.error).toBe('VALIDATION_FAILED');
      expect(Object.keys(r.body).sort()).toEqual(['error', 'message']);
      expect(r.body.message).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/);
    });
  });

  describe('sign-in and /me', () => {
    const address = email('dave');
    const password = 'dave has a long password';
    let accessToken = '';

    beforeAll(async () => {
      secretsSeen.push(password);
      expect((await signUp(address, password)).status).toBe(201);
    });

    it('a wrong password and an unknown address both answer 401 INVALID_CREDENTIALS, alike', async () => {
      const wrong = await signIn(address, 'not the password at all');
      const unknown = await signIn(email('nobody'), password);
      for (const r of [wrong, unknown]) {
        expect(r.status).toBe(401);
        expect(r.body).toEqual({
          error: 'INVALID_CREDENTIALS',
          message: 'the email or password is incorrect',
        });
        expect(r.refreshCookie).toBeUndefined();
      }
    });

    it('the right password signs in, with the address in any case', async () => {
      const r = await signIn(address.toUpperCase(), password);
      expect(r.status).toBe(200);
      expect((r.body.user as Record<string, unknown>).email).toBe(address);
      expect(r.refreshCookie).toMatch(/^ec_refresh=[A-Za-z0-9_-]{43}; /);
      accessToken = r.body.accessToken as string;
    });

    it('GET /api/v1/me answers the signed-in user', async () => {
      const r = await call('GET', '/api/v1/me', { token: accessToken });
      expect(r.status).toBe(200);
      expect(Object.keys(r.body).sort()).toEqual(['createdAt', 'email', 'emailVerifiedAt', 'id', 'operator']);
      expect(r.body.email).toBe(address);
      // a password sign-up is unverified until the code it mailed is entered
      expect(r.body.emailVerifiedAt).toBeNull();
      expect(new Date(r.body.createdAt as string).getTime()).toBeLessThanOrEqual(Date.now());
    });

    it('GET /api/v1/me without a token, or with a forged one, is 401 UNAUTHENTICATED', async () => {
      const forged = `${accessToken.slice(0, accessToken.lastIndexOf('.'))}.${'A'.repeat(43)}`;
      for (const token of [undefined, 'garbage', forged]) {
        const r = await call('GET', '/api/v1/me', { token });
        expect(r.status).toBe(401);
        expect(r.body.error).toBe('UNAUTHENTICATED');
      }
    });
  });

  describe('refresh rotation and reuse detection', () => {
    const address = email('erin');
    const password = 'erin has a long password';

    it('rotates: a new cookie and access token each time; replaying a spent cookie revokes the whole family', async () => {
      const first = await signUp(address, password);
      const a = cookieValue(first.refreshCookie);

      const r1 = await call('POST', '/api/v1/auth/refresh', { refresh: a });
      expect(r1.status).toBe(200);
      expect(r1.headers.get('cache-control')).toBe('no-store');
      const b = cookieValue(r1.refreshCookie);
      expect(b).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(b).not.toBe(a);
      expect(r1.refreshCookie).toMatch(/; Path=\/api\/v1\/auth; .*HttpOnly/);
      const me = await call('GET', '/api/v1/me', { token: r1.body.accessToken as string });
      expect(me.body.email).toBe(address);

      // both rows are in one family; the first is marked rotated
      const rows = await db.query<{ token_hash: string; family_id: string; rotated_at: Date | null }>(
        'SELECT token_hash, family_id, rotated_at FROM refresh_sessions WHERE token_hash = ANY($1) ORDER BY created_at',
        [[sha256(a), sha256(b)]],
      );
      expect(rows.rows).toHaveLength(2);
      expect(new Set(rows.rows.map((r) => r.family_id)).size).toBe(1);
      expect(rows.rows.find((r) => r.token_hash === sha256(a))?.rotated_at).toBeInstanceOf(Date);
      expect(rows.rows.find((r) => r.token_hash === sha256(b))?.rotated_at).toBeNull();

      // a thief replays the spent cookie: 401 REFRESH_REUSED, the cookie is cleared, and the family is dead
      const reuse = await call('POST', '/api/v1/auth/refresh', { refresh: a });
      expect(reuse.status).toBe(401);
      expect(reuse.body.error).toBe('REFRESH_REUSED');
      expect(reuse.refreshCookie).toMatch(/^ec_refresh=; Path=\/api\/v1\/auth; Expires=Thu, 01 Jan 1970/);

      const legit = await call('POST', '/api/v1/auth/refresh', { refresh: b });
      expect(legit.status).toBe(401);
      expect(legit.body.error).toBe('REFRESH_INVALID');
      expect(legit.refreshCookie).toMatch(/^ec_refresh=;/);
      const revoked = await db.query<{ revoked: number }>(
        'SELECT count(*)::int AS revoked FROM refresh_sessions WHERE family_id = $1 AND revoked_at IS NOT NULL',
        [rows.rows[0]?.family_id],
      );
      expect(revoked.rows[0]?.revoked).toBe(2);

      // another sign-in starts a new family, untouched by the old one's revocation
      const again = await signIn(address, password);
      expect(again.status).toBe(200);
      const r2 = await call('POST', '/api/v1/auth/refresh', { refresh: cookieValue(again.refreshCookie) });
      expect(r2.status).toBe(200);
    });

    it('without a cookie, or with one that is not ours: 401 REFRESH_INVALID', async () => {
      for (const refresh of [undefined, 'nonsense', randomBytes(32).toString('base64url')]) {
        const r = await call('POST', '/api/v1/auth/refresh', { refresh });
        expect(r.status).toBe(401);
        expect(r.body.error).toBe('REFRESH_INVALID');
      }
    });

    it('two concurrent refreshes with one cookie: exactly one succeeds, and the family is revoked', async () => {
      const s = await signUp(email('frank'), 'frank has a long password');
      const token = cookieValue(s.refreshCookie);
      const results = await Promise.all([
        call('POST', '/api/v1/auth/refresh', { refresh: token }),
        call('POST', '/api/v1/auth/refresh', { refresh: token }),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
      const winner = results.find((r) => r.status === 200);
      expect(results.find((r) => r.status === 401)?.body.error).toBe('REFRESH_REUSED');
      const after = await call('POST', '/api/v1/auth/refresh', {
        refresh: cookieValue(winner?.refreshCookie),
      });
      expect(after.status).toBe(401);
    });
  });

  describe('logout', () => {
    it('revokes the session and clears the cookie (204); the cookie no longer refreshes', async () => {
      const s = await signUp(email('grace'), 'grace has a long password');
      const token = cookieValue(s.refreshCookie);
      const out = await call('POST', '/api/v1/auth/logout', { refresh: token });
      expect(out.status).toBe(204);
      expect(out.refreshCookie).toMatch(/^ec_refresh=; Path=\/api\/v1\/auth; Expires=Thu, 01 Jan 1970/);
      const r = await call('POST', '/api/v1/auth/refresh', { refresh: token });
      expect(r.status).toBe(401);
      expect(r.body.error).toBe('REFRESH_INVALID');
    });

    it('is idempotent: without a cookie it still answers 204', async () => {
      expect((await call('POST', '/api/v1/auth/logout')).status).toBe(204);
    });
  });

  describe('rate limits (Redis Cluster counters)', () => {
    // the sign-ins above count against 127.0.0.1 too: each test starts a fresh window for the address
    const ipKey = CacheKeys.rateLimit('signin-ip', '127.0.0.1');
    beforeEach(() => redis.del(ipKey));

    it('8 concurrent wrong guesses for one account from one address: only the 5 free ones reach the password check', async () => {
      const address = email('heidi');
      const password = 'heidi has a long password';
      expect((await signUp(address, password)).status).toBe(201);
      const replies = await Promise.all(
        Array.from({ length: 8 }, (_, i) => signIn(address, `wrong password ${i}`, '203.0.113.8')),
      );
      const statuses = replies.map((r) => r.status).sort();
      expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
      for (const r of replies.filter((x) => x.status === 429)) {
        expect(r.body).toEqual({ error: 'RATE_LIMITED', message: expect.any(String) as string });
        expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        expect(r.refreshCookie).toBeUndefined();
      }
    });

    it("after an attacker's address has failed many times, the owner signs in from another address (200)", async () => {
      const address = email('olivia');
      const password = 'olivia has a long password';
      expect((await signUp(address, password)).status).toBe(201);
      const attacker: number[] = [];
      for (let i = 0; i < 12; i++)
        attacker.push((await signIn(address, `guess ${i}`, '203.0.113.66')).status);
      expect(attacker.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
      expect(attacker).toContain(429);
      // the attacker's own address is still refused with the right password: the delay is per address
      expect((await signIn(address, password, '203.0.113.66')).status).toBe(429);
      const owner = await signIn(address, password, '198.51.100.20');
      expect(owner.status).toBe(200);
      expect(owner.refreshCookie).toBeDefined();
    });

    it('each further failure from an address doubles its wait (Retry-After 1, 2, 4 s...)', async () => {
      const address = email('judy');
      expect((await signUp(address, 'judy has a long password')).status).toBe(201);
      const from = '203.0.113.9';
      for (let i = 0; i < 5; i++) expect((await signIn(address, `wrong ${i}`, from)).status).toBe(401);
      const waits: number[] = [];
      for (let i = 0; waits.length < 3 && i < 12; i++) {
        const r = await signIn(address, `wrong again ${i}`, from);
        if (r.status === 429) {
          const wait = Number(r.headers.get('retry-after'));
          waits.push(wait);
          await new Promise((resolve) => setTimeout(resolve, wait * 1000 + 100));
        } else expect(r.status).toBe(401);
      }
      expect(waits).toHaveLength(3);
      expect(waits[0]).toBeLessThanOrEqual(2);
      expect(waits[1]).toBe(2 * (waits[0] ?? 0));
      expect(waits[2]).toBe(2 * (waits[1] ?? 0));
    }, 30000);

    it('a successful sign-in clears the failures', async () => {
      const address = email('ivan');
      const password = 'ivan has a long password';
      expect((await signUp(address, password)).status).toBe(201);
      for (let i = 0; i < 4; i++) expect((await signIn(address, `wrong password ${i}`)).status).toBe(401);
      expect((await signIn(address, password)).status).toBe(200);
      for (let i = 0; i < 4; i++) expect((await signIn(address, `wrong password ${i}`)).status).toBe(401);
      expect((await signIn(address, password)).status).toBe(200);
    });

    it('the 21st sign-in attempt from one address within a minute is 429 RATE_LIMITED with Retry-After', async () => {
      for (let i = 0; i < 20; i++) {
        const r = await signIn(email(`mallory${i}`), 'guessing a password');
        expect(r.status).toBe(401);
      }
      expect(await redis.get(ipKey)).toBe('20');
      const pttl = await redis.pttl(ipKey);
      expect(pttl).toBeGreaterThan(0);
      expect(pttl).toBeLessThanOrEqual(60000);

      const limited = await signIn(email('mallory'), 'guessing a password');
      expect(limited.status).toBe(429);
      expect(limited.body.error).toBe('RATE_LIMITED');
      const retryAfter = Number(limited.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
    });

    it('TRUST_PROXY: two clients behind the proxy (different X-Forwarded-For) have limits of their own', async () => {
      for (let i = 0; i < 20; i++)
        expect((await signIn(email(`trent${i}`), 'guessing a password', '192.0.2.10')).status).toBe(401);
      expect((await signIn(email('trent'), 'guessing a password', '192.0.2.10')).status).toBe(429);
      // another client of the same proxy is not held back by the first one's limit
      expect((await signIn(email('trudy'), 'guessing a password', '192.0.2.11')).status).toBe(401);
      expect(await redis.get(CacheKeys.rateLimit('signin-ip', '192.0.2.10'))).toBe('21');
      expect(await redis.get(CacheKeys.rateLimit('signin-ip', '192.0.2.11'))).toBe('1');
    });
  });

  it('never writes a password, refresh token or access token to its output', () => {
    expect(secretsSeen.length).toBeGreaterThan(10);
    const output = app.output();
    for (const secret of secretsSeen) expect(output).not.toContain(secret);
    expect(output).not.toContain(secrets.JWT_SECRET);
  });
});
