import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import { MAX_INLINE_ATTACHMENT_BYTES } from '@email-core/contracts';
import {
  apiCall,
  currentTestRun,
  freePort,
  signUp,
  spawnApp,
  startLatencyProber,
  testRunEnv,
  type SpawnedApp,
  waitForHealthy,
} from '@email-core/testing';

/**
 * Issue 16, defects 1 and 7, against the real producer process: no anonymous caller makes it read more than
 * JSON_BODY_LIMIT_BYTES (100 kB) of a body on any route but the Graph webhook. `POST /commands` used to parse up
 * to 45 MiB of JSON before its guard said 401, stalling every other request for seconds; now the token is checked
 * (and per-IP and per-user limits counted) before a byte is read, and large attachments come through a separate,
 * authenticated, streamed upload with a hard 3 MB limit. The DoS checks measure what matters: the latency of a
 * concurrent `GET /health/live` while the big bodies are being sent.
 */

const run = currentTestRun();
const keyPrefix = `${run.redisKeyPrefix}body-limits-e2e:`;
const MB = 1024 * 1024;
const GLOBAL_LIMIT = 102_400;
const COMMANDS_PER_USER = 4;
const RESYNC_PER_USER = 3;
const UPLOADS_PER_USER = 6;
const COMMANDS_PER_IP = 40;

interface RawReply {
  status: number;
  body: Record<string, unknown>;
  headers: http.IncomingHttpHeaders;
}

describe('body limits before authentication (real producer)', () => {
  let app: SpawnedApp;
  let base: string;
  let port: number;

  /**
   * Sends the request line and headers (Content-Length: `declared`) and only `sent` bytes of the body, then waits
   * for the answer. A server that reads the body before answering never answers (the rest never comes); one that
   * refuses it unread answers at once.
   */
  function partialPost(
    path: string,
    opts: { declared: number; sent: number; headers?: Record<string, string> },
  ): Promise<RawReply> {
    return new Promise((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path,
        headers: {
          'content-type': 'application/json',
          'content-length': String(opts.declared),
          ...opts.headers,
        },
      });
      const timer = setTimeout(() => {
        req.destroy();
        reject(new Error(`no answer within 3 s to POST ${path} with ${opts.sent} of ${opts.declared} bytes`));
      }, 3000);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          clearTimeout(timer);
          req.destroy();
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
            headers: res.headers,
          });
        });
      });
      // the server may close the connection once it has answered
      req.on('error', () => undefined);
      req.flushHeaders();
      if (opts.sent > 0) req.write('{"pad":"'.padEnd(opts.sent, 'x'));
    });
  }

  /**
   * Sends a whole body on a connection of its own (not the pool the probes use). Resolves with the status, or
   * with 'closed' when the server closed the connection before the client read its answer: refusing a body unread
   * means closing the connection under a client still writing, which may then see EPIPE or a reset first.
   */
  function postWhole(path: string, body: Buffer): Promise<number | 'closed'> {
    return new Promise((resolve) => {
      const req = http.request({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path,
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
      });
      let settled = false;
      req.on('response', (res) => {
        settled = true;
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', () => {
        if (!settled) resolve('closed');
        settled = true;
      });
      req.end(body);
    });
  }

  /** a whole body of `bytes` bytes of valid JSON (so a server that reads it also parses all of it) */
  const jsonOf = (bytes: number) => Buffer.from(`{"pad":"${'x'.repeat(bytes - 10)}"}`);

  async function post(
    path: string,
    body: Buffer | string,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    return {
      status: res.status,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
      headers: res.headers,
    };
  }

  beforeAll(async () => {
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    app = spawnApp('producer', {
      ...testRunEnv(run),
      MS_CLIENT_ID: 'email-core-test',
      MS_CLIENT_SECRET: randomBytes(16).toString('hex'),
      JWT_SECRET: randomBytes(32).toString('hex'),
      TOKEN_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      REDIS_KEY_PREFIX: keyPrefix,
      PRODUCER_PORT: String(port),
      PUBLIC_BASE_URL: base,
      COMMANDS_RATE_LIMIT_PER_MINUTE: String(COMMANDS_PER_USER),
      COMMANDS_IP_RATE_LIMIT_PER_MINUTE: String(COMMANDS_PER_IP),
      UPLOADS_RATE_LIMIT_PER_MINUTE: String(UPLOADS_PER_USER),
      RESYNC_RATE_LIMIT_PER_MINUTE: String(RESYNC_PER_USER),
    });
    await waitForHealthy(() => app, `${base}/health`);
  }, 90_000);

  afterAll(async () => {
    await app?.stop();
  });

  describe('an anonymous 20 MB body', () => {
    const ROUTES: Array<[string, number, string]> = [
      ['/api/v1/commands', 401, 'UNAUTHENTICATED'],
      ['/api/v1/uploads?name=big.bin', 401, 'UNAUTHENTICATED'],
      [`/api/v1/accounts/${randomUUID()}/resync`, 401, 'UNAUTHENTICATED'],
      ['/api/v1/auth/signin', 413, 'PAYLOAD_TOO_LARGE'],
      ['/api/v1/auth/signup', 413, 'PAYLOAD_TOO_LARGE'],
      [`/api/v1/no-such-route-${randomBytes(3).toString('hex')}`, 413, 'PAYLOAD_TOO_LARGE'],
    ];

    it.each(ROUTES)('to %s is refused (%i %s) without its body being read', async (path, status, code) => {
      const r = await partialPost(path, { declared: 20 * MB, sent: 64 * 1024 });
      expect({ status: r.status, error: r.body.error }).toEqual({ status, error: code });
    });

    it('sent whole to each route, twelve in parallel: a concurrent GET /health/live answers in under 100 ms (p95; none over 500 ms)', async () => {
      const big = jsonOf(20 * MB);
      // the probes run in a process of their own, so what they measure is the producer, not this test's own
      // event loop (busy writing the bodies)
      const prober = startLatencyProber(`${base}/health/live`, { pauseMs: 5 });
      await prober.ready;
      // a quiet half second first: the same probes without the bodies, for comparison
      await new Promise((r) => setTimeout(r, 500));
      const quietUntil = Date.now();
      const started = performance.now();
      const loadFrom = Date.now();
      const replies: Array<{ path: string; got: number | 'closed'; status: number }> = [];
      // three waves of twelve in parallel, each route twice a wave; then, until 800 ms have passed, more waves to
      // the routes that refuse with 413 alone, so the prober gets its probes in while bodies are arriving (a
      // clean-clone CI run answered three waves in 100 ms, which left only 4 probes inside the window). The 401
      // routes are not repeated: their refusals count towards the per-address command limit later tests use.
      const refusedUnread = ROUTES.filter(([, status]) => status === 413);
      for (let wave = 0; wave < 3 || (performance.now() - started < 800 && wave < 60); wave += 1) {
        const routes =
          wave < 3 ? [...ROUTES, ...ROUTES] : [...refusedUnread, ...refusedUnread, ...refusedUnread];
        replies.push(
          ...(await Promise.all(
            routes.map(async ([path, status]) => ({
              path,
              got: await postWhole(path, big),
              status,
            })),
          )),
        );
      }
      const elapsed = performance.now() - started;
      const loadUntil = Date.now();
      const probes = await prober.stop();
      // the probes that were in flight while the bodies were being sent
      const during = probes.latencies.flatMap((latency, i) =>
        probes.starts[i] + latency >= loadFrom && probes.starts[i] <= loadUntil
          ? [{ latency, status: probes.statuses[i] }]
          : [],
      );
      const latencies = during.map((p) => p.latency);
      const quiet = probes.latencies.filter((latency, i) => probes.starts[i] + latency < quietUntil);
      const statuses = during.map((p) => p.status);
      const sorted = [...latencies].sort((a, b) => a - b);
      const worst = sorted[sorted.length - 1] ?? Infinity;
      const p95 = sorted[Math.floor(sorted.length * 0.95)] ?? Infinity;
      process.stdout.write(
        `body-limits: ${replies.length} anonymous 20 MB bodies in ${elapsed.toFixed(0)} ms ` +
          `(${replies.filter((r) => r.got === 'closed').length} closed before the answer was read); ` +
          `/health/live ${latencies.length} probes during them, p95 ${p95.toFixed(1)} ms, worst ${worst.toFixed(1)} ms ` +
          `(${quiet.length} quiet probes before: worst ${Math.max(...quiet).toFixed(1)} ms)\n`,
      );
      // each refused with its status, or its connection closed before the client read the status
      for (const r of replies) expect([r.status, 'closed']).toContain(r.got);
      expect(statuses.every((status) => status === 200)).toBe(true);
      expect(latencies.length).toBeGreaterThanOrEqual(5);
      // the old code: p95 and worst over a second (the JSON parse of each 20 MB body stalls every request). The
      // worst case gets room for the scheduling noise of a loaded 2-core CI machine, which is not the producer's.
      expect(p95).toBeLessThan(100);
      expect(worst).toBeLessThan(500);
    }, 60_000);
  });

  describe('a body just over 100 kB from an anonymous caller', () => {
    it.each([
      ['/api/v1/commands', 401],
      ['/api/v1/uploads?name=x.bin', 401],
      ['/api/v1/auth/signin', 413],
      ['/api/v1/auth/signup', 413],
      ['/api/v1/auth/refresh', 413],
      ['/api/v1/auth/logout', 413],
      [`/api/v1/accounts/${randomUUID()}/resync`, 401],
      ['/api/v1/ops/dead-letters', 413],
      ['/', 413],
    ])('to %s is refused (%i) before its body is read', async (path, status) => {
      const r = await partialPost(path, { declared: GLOBAL_LIMIT + 1, sent: 1024 });
      expect(r.status).toBe(status);
      expect(r.headers.connection).toBe('close');
    });

    it('sent chunked (no Content-Length), it is refused once 100 kB have arrived, not read to its end', async () => {
      const r = await new Promise<RawReply>((resolve, reject) => {
        const req = http.request({
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/api/v1/auth/signin',
          headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
        });
        const timer = setTimeout(() => reject(new Error('no answer to a chunked body over the limit')), 5000);
        req.on('response', (res) => {
          clearTimeout(timer);
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            req.destroy();
            resolve({
              status: res.statusCode ?? 0,
              body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
              headers: res.headers,
            });
          });
        });
        req.on('error', () => undefined);
        // 200 kB and then nothing more: a server that reads to the end would wait forever
        req.write('{"pad":"'.padEnd(200 * 1024, 'x'));
      });
      expect({ status: r.status, error: r.body.error }).toEqual({ status: 413, error: 'PAYLOAD_TOO_LARGE' });
    });

    it('the Graph webhook keeps its own 1 MB limit (and reads an anonymous body that size)', async () => {
      const r = await post('/api/v1/graph/notifications', jsonOf(200 * 1024));
      expect(r.status).not.toBe(413);
    });
  });

  describe('uploads (authenticated, streamed, at most 3 MB)', () => {
    let token: string;
    const upload = (bytes: Buffer, name = 'report.pdf', type = 'application/pdf') =>
      post(`/api/v1/uploads?name=${encodeURIComponent(name)}`, bytes, {
        authorization: `Bearer ${token}`,
        'content-type': type,
      });

    beforeAll(async () => {
      token = (await signUp(base)).token;
    });

    it('takes exactly 3 MB of raw bytes and answers 201 {uploadId, name, contentType, size}', async () => {
      const r = await upload(Buffer.alloc(MAX_INLINE_ATTACHMENT_BYTES, 1));
      expect(r.status).toBe(201);
      expect(r.body).toEqual({
        uploadId: expect.stringMatching(/^[0-9a-f-]{36}$/) as unknown,
        name: 'report.pdf',
        contentType: 'application/pdf',
        size: MAX_INLINE_ATTACHMENT_BYTES,
        expiresAt: expect.any(String) as unknown,
      });
    });

    it('one byte over: 413 ATTACHMENT_TOO_LARGE, announced or not, without reading the rest', async () => {
      const announced = await partialPost('/api/v1/uploads?name=huge.bin', {
        declared: 20 * MB,
        sent: 1024,
        headers: { authorization: `Bearer ${token}` },
      });
      expect({ status: announced.status, error: announced.body.error }).toEqual({
        status: 413,
        error: 'ATTACHMENT_TOO_LARGE',
      });
      const sent = await upload(Buffer.alloc(MAX_INLINE_ATTACHMENT_BYTES + 1, 1));
      expect({ status: sent.status, error: sent.body.error }).toEqual({
        status: 413,
        error: 'ATTACHMENT_TOO_LARGE',
      });
      // streamed (chunked, no Content-Length): answered once it crosses 3 MB
      const streamed = await new Promise<number>((resolve, reject) => {
        const req = http.request({
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/api/v1/uploads?name=stream.bin',
          agent: false,
          headers: { authorization: `Bearer ${token}`, 'transfer-encoding': 'chunked' },
        });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.write(Buffer.alloc(MAX_INLINE_ATTACHMENT_BYTES, 2));
        req.end(Buffer.alloc(1, 2));
      });
      expect(streamed).toBe(413);
    });

    it('without a name, or empty: 400 VALIDATION_FAILED', async () => {
      const noName = await post('/api/v1/uploads', Buffer.from('x'), { authorization: `Bearer ${token}` });
      expect(noName.status).toBe(400);
      expect((await upload(Buffer.alloc(0))).status).toBe(400);
    });

    it(`per user: ${UPLOADS_PER_USER} a minute, then 429 RATE_LIMITED with Retry-After`, async () => {
      let reply = await upload(Buffer.from('hello'));
      for (let i = 0; i < UPLOADS_PER_USER && reply.status !== 429; i += 1) {
        reply = await upload(Buffer.from('hello'));
      }
      expect(reply.status).toBe(429);
      expect(reply.body.error).toBe('RATE_LIMITED');
      expect(Number(reply.headers.get('retry-after'))).toBeGreaterThan(0);
    });
  });

  describe('per-user limits (defect 7)', () => {
    it(`POST /commands: ${COMMANDS_PER_USER} a minute per user, then 429 with Retry-After; another user is unaffected`, async () => {
      const alice = (await signUp(base)).token;
      const bob = (await signUp(base)).token;
      const command = { accountId: randomUUID(), action: 'delete', messageIds: ['AAMk='] };
      const statuses: number[] = [];
      for (let i = 0; i <= COMMANDS_PER_USER; i += 1) {
        statuses.push(
          (await apiCall(base, 'POST', '/api/v1/commands', { token: alice, body: command })).status,
        );
      }
      expect(statuses).toEqual([...Array<number>(COMMANDS_PER_USER).fill(404), 429]);
      const limited = await post('/api/v1/commands', JSON.stringify(command), {
        authorization: `Bearer ${alice}`,
      });
      expect(limited.status).toBe(429);
      expect(limited.body.error).toBe('RATE_LIMITED');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await apiCall(base, 'POST', '/api/v1/commands', { token: bob, body: command })).status).toBe(
        404,
      );
    });

    it(`POST /accounts/:id/resync: ${RESYNC_PER_USER} a minute per user, then 429 with Retry-After`, async () => {
      const { token } = await signUp(base);
      const path = `/api/v1/accounts/${randomUUID()}/resync`;
      const statuses: number[] = [];
      for (let i = 0; i < RESYNC_PER_USER; i += 1) {
        statuses.push((await apiCall(base, 'POST', path, { token })).status);
      }
      expect(statuses).toEqual(Array<number>(RESYNC_PER_USER).fill(404));
      const limited = await post(path, '', { authorization: `Bearer ${token}` });
      expect(limited.status).toBe(429);
      expect(limited.body.error).toBe('RATE_LIMITED');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    });

    it(`POST /commands: at most ${COMMANDS_PER_IP} a minute from one address, whoever signs in`, async () => {
      let reply: { status: number; body: Record<string, unknown>; headers: Headers } | undefined;
      for (let n = 0; n <= COMMANDS_PER_IP && reply?.status !== 429; n += COMMANDS_PER_USER) {
        const { token } = await signUp(base);
        for (let i = 0; i < COMMANDS_PER_USER && reply?.status !== 429; i += 1) {
          reply = await post('/api/v1/commands', '{}', { authorization: `Bearer ${token}` });
        }
      }
      expect(reply?.status).toBe(429);
      expect(reply?.body.message).toMatch(/address/);
      expect(Number(reply?.headers.get('retry-after'))).toBeGreaterThan(0);
    }, 60_000);
  });
});
