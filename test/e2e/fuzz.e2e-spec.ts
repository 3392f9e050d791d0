import { randomBytes } from 'node:crypto';
import http from 'node:http';
import {
  currentTestRun,
  freePort,
  spawnApp,
  testRunEnv,
  type SpawnedApp,
  waitForHealthy,
} from '@email-core/testing';

/**
 * 5,000 random and malformed requests across the API (issue 8): paths from the producer's own OpenAPI document
 * with their parameters filled by good and bad values (UUIDs, garbage, path traversal, NUL, very long), random
 * methods, random or malformed JSON, wrong content types, huge headers, with a valid token, a forged one or none.
 * No answer may be a 5xx, and the producer must stay up and healthy.
 *
 * The run is reproducible: FUZZ_SEED=<n> replays one (the seed is printed at the start).
 */

const TOTAL = Number(process.env.FUZZ_REQUESTS ?? 5000);
const CONCURRENCY = 8;
const SEED = Number(process.env.FUZZ_SEED ?? 20261122);

const run = currentTestRun();
const keyPrefix = `${run.redisKeyPrefix}fuzz-e2e:`;

/** mulberry32: a small seeded PRNG, so a failing run replays exactly */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

interface Answer {
  status: number;
  body: string;
}

function send(base: URL, req: FuzzRequest, agent: http.Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const r = http.request(
      {
        host: base.hostname,
        port: base.port,
        method: req.method,
        path: req.path,
        headers: req.body ? { ...req.headers, 'content-length': String(req.body.length) } : req.headers,
        agent,
        timeout: 15000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    r.on('timeout', () => r.destroy(new Error(`timeout: ${req.method} ${req.path}`)));
    r.on('error', reject);
    r.end(req.body);
  });
}

describe('fuzz: 5,000 random and malformed requests (real producer, real stack)', () => {
  let app: SpawnedApp;
  let base: URL;
  let token: string;
  let templates: string[];

  beforeAll(async () => {
    const port = await freePort();
    base = new URL(`http://127.0.0.1:${port}`);
    app = spawnApp('producer', {
      ...testRunEnv(run),
      MS_CLIENT_ID: 'email-core-test',
      MS_CLIENT_SECRET: randomBytes(16).toString('hex'),
      JWT_SECRET: randomBytes(32).toString('hex'),
      TOKEN_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      REDIS_KEY_PREFIX: keyPrefix,
      PRODUCER_PORT: String(port),
      // the realistic deployment: the fuzzing user is an operator too, so the Ops routes are reached
      OPS_ADMIN_EMAILS: '*',
    });
    await waitForHealthy(() => app, new URL('/health', base).href);
    const signUp = await fetch(new URL('/api/v1/auth/signup', base), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        email: `fuzz-${randomBytes(4).toString('hex')}@example.com`,
        password: 'fuzzing is fun!',
      }),
    });
    expect(signUp.status).toBe(201);
    token = ((await signUp.json()) as { accessToken: string }).accessToken;
    const doc = (await (await fetch(new URL('/api/docs-json', base))).json()) as {
      paths: Record<string, unknown>;
    };
    templates = Object.keys(doc.paths);
  }, 90000);

  afterAll(async () => {
    await app?.stop();
  });

  it('answers every request below 500 and stays healthy', async () => {
    process.stdout.write(`[fuzz] seed ${SEED} (replay: FUZZ_SEED=${SEED}), ${TOTAL} requests\n`);
    expect(templates.length).toBeGreaterThan(15);
    const random = prng(SEED);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
    const chance = (p: number) => random() < p;
    const junk = (n: number) =>
      Array.from({ length: n }, () => String.fromCharCode(32 + Math.floor(random() * 95))).join('');

    const paramValues = (): string =>
      pick([
        '00000000-0000-4000-8000-000000000000',
        'not-a-uuid',
        encodeURIComponent(junk(12)),
        '..%2F..%2F..%2Fetc%2Fpasswd',
        '%2e%2e%2f%2e%2e%2f',
        '%00',
        '%E0%A4%A',
        'a'.repeat(3000),
        '-1',
        '1e309',
        '%F0%9F%92%A9',
        "'%20OR%201=1--",
        'AAMkAGI2TG93AAA%3D',
      ]);
    const jsonValue = (depth: number): unknown => {
      const kind = Math.floor(random() * (depth > 3 ? 5 : 8));
      switch (kind) {
        case 0:
          return null;
        case 1:
          return chance(0.5);
        case 2:
          return pick([0, -1, 1.5, 1e308, Number.MAX_SAFE_INTEGER + 2, 42]);
        case 3:
          return junk(Math.floor(random() * 40));
        case 4:
          return pick([
            'markRead',
            'send',
            'reply',
            'move',
            '__proto__',
            'constructor',
            '00000000-0000-4000-8000-000000000000',
            'a\u0000b',
          ]);
        case 5:
          return Array.from({ length: Math.floor(random() * 4) }, () => jsonValue(depth + 1));
        default: {
          const keys = [
            'email',
            'password',
            'action',
            'messageIds',
            'accountId',
            'id',
            'value',
            'partition',
            'subscriptionId',
            'clientState',
            'resource',
            'changeType',
            'offset',
            '__proto__',
            'constructor',
            junk(5),
          ];
          const o: Record<string, unknown> = {};
          for (let i = 0; i < Math.floor(random() * 5); i++) o[pick(keys)] = jsonValue(depth + 1);
          return o;
        }
      }
    };
    const bodyOf = (): { body?: Buffer; type?: string } => {
      switch (Math.floor(random() * 9)) {
        case 0:
          return {};
        case 1:
        case 2:
        case 3:
          return { body: Buffer.from(JSON.stringify(jsonValue(0))), type: 'application/json' };
        case 4:
          return {
            body: Buffer.from(
              pick(['{', '{"a":', '[[[[', '{"a":1,}', 'nul', '"\\u00', '{"email": hunter2}']),
            ),
            type: 'application/json',
          };
        case 5:
          return { body: Buffer.from(junk(200)), type: pick(['text/plain', 'application/xml', 'text/html']) };
        case 6:
          return {
            body: Buffer.from('a=1&b[c]=2&__proto__[x]=1'),
            type: 'application/x-www-form-urlencoded',
          };
        case 7:
          return {
            body: randomBytes(Math.floor(random() * 2048)),
            type: pick([
              'multipart/form-data; boundary=x',
              'application/octet-stream',
              'application/json; charset=utf-7',
            ]),
          };
        default:
          // over the 100 kB JSON limit
          return {
            body: Buffer.from(JSON.stringify({ email: 'x@y.z', password: 'p'.repeat(120 * 1024) })),
            type: 'application/json',
          };
      }
    };
    const requestAt = (): FuzzRequest => {
      const template = pick(templates);
      let path = template.replace(/\{[^}]+\}/g, () => (chance(0.8) ? paramValues() : ''));
      if (chance(0.3))
        path += `?${encodeURIComponent(pick(['limit', 'since', 'cursor', 'q', 'validationToken', 'redirect', 'unknown', junk(4)]))}=${encodeURIComponent(junk(Math.floor(random() * 30)))}`;
      if (chance(0.05))
        path = pick([
          '/api/v1/../../../etc/passwd',
          '/../.env',
          '/api/v2/',
          '/api/v1/%2e%2e/',
          '//api//v1//me',
          '/api/docs/../../package.json',
        ]);
      const method = chance(0.6)
        ? pick(['GET', 'POST'])
        : pick(['PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'TRACE']);
      const headers: Record<string, string> = {};
      const auth = random();
      if (auth < 0.5) headers.authorization = `Bearer ${token}`;
      else if (auth < 0.65)
        headers.authorization = pick([
          'Bearer ',
          'Bearer x.y.z',
          `Bearer ${token.slice(0, -3)}abc`,
          'Basic YTpi',
          junk(50),
        ]);
      if (chance(0.03)) headers['x-fuzz'] = 'h'.repeat(20 * 1024);
      if (chance(0.1)) headers.cookie = `ec_refresh=${junk(20).replace(/[;\s,]/g, '')}`;
      if (chance(0.1)) headers.origin = pick(['https://evil.example', 'null', 'http://127.0.0.1:5173']);
      const { body, type } = method === 'GET' || method === 'HEAD' ? {} : bodyOf();
      if (type) headers['content-type'] = type;
      return { method, path, headers, body };
    };

    // the requests are drawn before sending, so the sequence depends only on the seed
    const requests = Array.from({ length: TOTAL }, requestAt);
    const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const histogram: Record<string, number> = {};
    const failures: string[] = [];
    const started = Date.now();
    let next = 0;
    const worker = async () => {
      while (next < requests.length) {
        const index = next++;
        const req = requests[index];
        try {
          const answer = await send(base, req, agent);
          histogram[answer.status] = (histogram[answer.status] ?? 0) + 1;
          if (answer.status >= 500)
            failures.push(
              `#${index} ${req.method} ${req.path.slice(0, 200)} → ${answer.status} ${answer.body.slice(0, 300)}`,
            );
          if (/node_modules|\bat \w+ \(/.test(answer.body))
            failures.push(`#${index} ${req.method} ${req.path.slice(0, 200)} → stack in body`);
        } catch (err) {
          histogram.error = (histogram.error ?? 0) + 1;
          // a server that closes the socket on an oversized header is fine; a crash is not (checked below)
          if (!req.headers['x-fuzz'])
            failures.push(`#${index} ${req.method} ${req.path.slice(0, 200)} → ${(err as Error).message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    agent.destroy();
    const seconds = (Date.now() - started) / 1000;
    process.stdout.write(
      `[fuzz] seed ${SEED}: ${TOTAL} requests in ${seconds.toFixed(1)} s, statuses ${JSON.stringify(histogram)}\n`,
    );

    expect(failures).toEqual([]);
    expect(Object.values(histogram).reduce((a, b) => a + b, 0)).toBe(TOTAL);
    // the producer is still the same process, healthy, and serves a signed-in user
    expect(app.child.exitCode).toBeNull();
    const health = await fetch(new URL('/health', base));
    expect(health.status).toBe(200);
    const me = await fetch(new URL('/api/v1/me', base), { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);
    expect(seconds).toBeLessThan(60);
  }, 120000);
});
