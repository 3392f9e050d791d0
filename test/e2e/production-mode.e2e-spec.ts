import { randomBytes } from 'node:crypto';
import {
  currentTestRun,
  freePort,
  spawnApp,
  testRunEnv,
  type SpawnedApp,
  waitForHealthy,
} from '@email-core/testing';

/**
 * `NODE_ENV=production` against the real producer process (issue 16, defect 9): a development setting stops it at
 * boot with exit code 78 (EX_CONFIG) and the variable named, never its value; a production setup boots and
 * answers with HSTS and Secure cookies only.
 */

const run = currentTestRun();
const keyPrefix = `${run.redisKeyPrefix}production-e2e:`;

/** a setup that passes every production check: https, its own origin only, Microsoft, random secrets */
const production = (port: number): Record<string, string> => ({
  ...testRunEnv(run),
  NODE_ENV: 'production',
  REDIS_KEY_PREFIX: keyPrefix,
  PRODUCER_PORT: String(port),
  PUBLIC_BASE_URL: 'https://mail.example.test',
  CORS_ORIGINS: 'https://mail.example.test',
  MS_CLIENT_ID: 'email-core-production-test',
  MS_CLIENT_SECRET: randomBytes(16).toString('hex'),
  JWT_SECRET: randomBytes(48).toString('base64url'),
  TOKEN_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
});

describe('NODE_ENV=production (real producer process)', () => {
  it.each([
    ['PUBLIC_BASE_URL', 'http://mail.example.test'],
    ['CORS_ORIGINS', 'https://mail.example.test,http://localhost:5173'],
    ['MS_AUTHORITY', 'https://localhost:8443/common'],
    ['JWT_SECRET', 'x'.repeat(48)],
    ['OPS_ADMIN_EMAILS', '*'],
  ])(
    'refuses to start with %s=%s: exit 78 and the variable named (a secret never printed)',
    async (name, value) => {
      const port = await freePort();
      const app = spawnApp('producer', { ...production(port), [name]: value });
      const code = await Promise.race([
        app.exited,
        new Promise<string>((resolve) => setTimeout(() => resolve('still running'), 45000).unref()),
      ]);
      await app.stop();
      expect(code).toBe(78);
      const output = app.output();
      expect(output).toContain('Invalid configuration for producer');
      expect(output).toMatch(new RegExp(`- ${name}: `));
      if (name === 'JWT_SECRET') expect(output).not.toContain(value);
    },
    60000,
  );

  describe('a production setup', () => {
    let app: SpawnedApp;
    let base: string;

    beforeAll(async () => {
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      app = spawnApp('producer', production(port));
      await waitForHealthy(() => app, `${base}/health`);
    }, 90000);

    afterAll(async () => {
      await app?.stop();
    });

    it('boots and answers with HSTS', async () => {
      for (const path of ['/health/live', '/api/v1/no-such-route']) {
        const res = await fetch(`${base}${path}`);
        expect(res.headers.get('strict-transport-security')).toMatch(/^max-age=\d{7,}/);
      }
    });

    it('sets every cookie Secure (the refresh cookie of a sign-up)', async () => {
      const res = await fetch(`${base}/api/v1/auth/signup`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          email: `prod-${randomBytes(4).toString('hex')}@example.com`,
          password: 'a production password',
        }),
      });
      expect(res.status).toBe(201);
      const cookies = res.headers.getSetCookie();
      expect(cookies.length).toBeGreaterThan(0);
      for (const cookie of cookies) {
        const attrs = cookie.split(';').map((a) => a.trim().toLowerCase());
        expect(attrs).toContain('secure');
        expect(attrs).toContain('httponly');
      }
    });
  });
});
