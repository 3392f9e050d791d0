import { randomBytes } from 'node:crypto';
import { startEmulator, freePort, type RunningEmulator } from './emulator';
import { spawnApp, type SpawnedApp } from './spawn-app';
import { currentTestRun, testRunEnv } from './test-run';
import { waitFor } from './wait-for';

export interface RunningProduct {
  emulator: RunningEmulator;
  producer: SpawnedApp;
  consumer: SpawnedApp;
  /** `http://127.0.0.1:<port>` */
  api: string;
  /** the environment the apps run with (secrets included: for assertions that they never leak) */
  env: Record<string, string>;
  /** restarts the consumer (e.g. after a SIGKILL) with the same environment */
  restartConsumer(): Promise<SpawnedApp>;
  stop(): Promise<void>;
}

/**
 * The whole product on the test run's own database, topics and Redis prefix, talking to a fresh emulator:
 * the real producer and consumer processes, configured exactly as an operator would configure them.
 */
export async function startProduct(
  opts: { emulatorEnv?: Record<string, string>; appEnv?: Record<string, string> } = {},
): Promise<RunningProduct> {
  const port = await freePort();
  const consumerPort = await freePort();
  const api = `http://127.0.0.1:${port}`;
  const emulator = await startEmulator({
    EMULATOR_DEMO_REDIRECT_URIS: `${api}/api/v1/accounts/outlook/callback`,
    ...opts.emulatorEnv,
  });
  const env: Record<string, string> = {
    ...testRunEnv(currentTestRun()),
    JWT_SECRET: randomBytes(32).toString('hex'),
    TOKEN_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    MS_CLIENT_ID: emulator.clientId,
    MS_CLIENT_SECRET: emulator.clientSecret,
    MS_AUTHORITY: `${emulator.origin}/common`,
    MS_GRAPH_BASE_URL: emulator.origin,
    PUBLIC_BASE_URL: api,
    PRODUCER_PORT: String(port),
    CONSUMER_PORT: String(consumerPort),
    LOG_LEVEL: 'log',
    ...opts.appEnv,
  };
  const producer = spawnApp('producer', env);
  let consumer = spawnApp('consumer', env);
  const healthy = async (url: string, app: () => SpawnedApp) =>
    waitFor(
      async () => {
        if (app().child.exitCode !== null) throw new Error(`exited: ${app().output()}`);
        const r = await fetch(url, { signal: AbortSignal.timeout(3000) });
        return r.status === 200 ? true : undefined;
      },
      { timeoutMs: 60000, intervalMs: 300, what: url },
    );
  await Promise.all([
    healthy(`${api}/health`, () => producer),
    healthy(`http://127.0.0.1:${consumerPort}/health`, () => consumer),
  ]);
  return {
    emulator,
    producer,
    get consumer() {
      return consumer;
    },
    api,
    env,
    async restartConsumer() {
      await consumer.stop();
      consumer = spawnApp('consumer', env);
      await healthy(`http://127.0.0.1:${consumerPort}/health`, () => consumer);
      return consumer;
    },
    async stop() {
      await Promise.all([producer.stop(), consumer.stop(), emulator.stop()]);
    },
  };
}

/** JSON over HTTP with an optional bearer token; returns status, body and headers */
export async function apiCall<T = unknown>(
  base: string,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; cookie?: string } = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  const headers: Record<string, string> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.cookie) headers.cookie = opts.cookie;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    redirect: 'manual',
    signal: AbortSignal.timeout(30000),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON
  }
  return { status: res.status, body: body as T, headers: res.headers };
}

/** signs up a fresh user and returns their access token */
export async function signUp(
  api: string,
  email = `user-${randomBytes(4).toString('hex')}@example.test`,
): Promise<{ token: string; email: string }> {
  const res = await apiCall<{ accessToken: string }>(api, 'POST', '/api/v1/auth/signup', {
    body: { email, password: 'correct horse battery staple' },
  });
  if (res.status !== 201 && res.status !== 200)
    throw new Error(`signup -> ${res.status} ${JSON.stringify(res.body)}`);
  return { token: res.body.accessToken, email };
}

/**
 * Links an emulator mailbox the way a user does: authorize, the emulator's sign-in form, the redirect back to
 * our callback. Returns where the callback sent the browser.
 */
export async function linkOutlook(
  product: RunningProduct,
  token: string,
  login: string,
  password?: string,
): Promise<string> {
  const auth = await apiCall<{ url: string }>(product.api, 'GET', '/api/v1/accounts/outlook/authorize', {
    token,
  });
  if (auth.status !== 200) throw new Error(`authorize -> ${auth.status} ${JSON.stringify(auth.body)}`);
  // the link is bound to this browser by a cookie, as a real browser would carry it back to the callback
  const cookie = auth.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const form = new URLSearchParams({ login, ...(password ? { password } : {}) });
  const signIn = await fetch(auth.body.url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
    redirect: 'manual',
  });
  const callback = signIn.headers.get('location');
  if (signIn.status !== 302 || !callback)
    throw new Error(`sign-in -> ${signIn.status} ${await signIn.text()}`);
  const back = await fetch(callback, { redirect: 'manual', headers: { cookie } });
  const dashboard = back.headers.get('location');
  if (back.status !== 302 || !dashboard) throw new Error(`callback -> ${back.status} ${await back.text()}`);
  return dashboard;
}

export interface LinkedAccount {
  id: string;
  status: string;
}

/** polls `GET /api/v1/accounts` until the account (the first one, or `accountId`) reaches `status` */
export async function waitForAccountStatus(
  api: string,
  token: string,
  status: string,
  opts: { accountId?: string; timeoutMs?: number; intervalMs?: number } = {},
): Promise<LinkedAccount> {
  return waitFor(
    async () => {
      const res = await apiCall<{ items: LinkedAccount[] }>(api, 'GET', '/api/v1/accounts', { token });
      const items = res.body?.items ?? [];
      const account = opts.accountId ? items.find((a) => a.id === opts.accountId) : items[0];
      return account?.status === status ? account : undefined;
    },
    {
      timeoutMs: opts.timeoutMs ?? 120000,
      intervalMs: opts.intervalMs ?? 500,
      what: `account ${opts.accountId ?? '(first)'} to be ${status}`,
    },
  );
}
