import { createHash, randomBytes } from 'node:crypto';
import { Topics } from '@email-core/contracts';
import { createKafka, waitForPartitions } from '@email-core/kafka';
import { imapAdapterTestEnv, systemMailEnv } from './dev-mail';
import { startEmulator, freePort, type RunningEmulator } from './emulator';
import { startRoundRobinProxy } from './round-robin-proxy';
import { spawnApp, waitForHealthy, type SpawnedApp } from './spawn-app';
import { createChildRun, currentTestRun, testRunEnv, waitForReplicaDatabase } from './test-run';
import { waitFor } from './wait-for';

export interface RunningProduct {
  emulator: RunningEmulator;
  /** the first producer and consumer (most tests run one of each) */
  producer: SpawnedApp;
  consumer: SpawnedApp;
  /** every producer and consumer process, in start order (restarts replace their entry) */
  producers: SpawnedApp[];
  consumers: SpawnedApp[];
  /**
   * Where clients and Graph reach the API (`PUBLIC_BASE_URL`): the producer itself, or with several producers a
   * round-robin proxy in front of them, as a load balancer would be.
   */
  api: string;
  /** each producer's own `http://127.0.0.1:<port>` */
  apis: string[];
  /** the environment the apps run with (secrets included: for assertions that they never leak) */
  env: Record<string, string>;
  /**
   * each producer's `REALTIME_INSTANCE_ID` (its real-time consumer group is named for it), in start order; a restart
   * gives the producer a new one. A test about the groups picks its own by these, not by the run's topic prefix,
   * which the products of earlier files in the same worker (and an isolated product's parent run) shared.
   */
  realtimeInstanceIds: string[];
  /** the database the apps use (the run's, or with `isolated` one of the product's own) */
  databaseUrl: string;
  /** with `replica`: the same database on the stack's hot standby, which the producers' queries read */
  databaseReadUrl?: string;
  /** restarts a consumer (the first by default), e.g. after a SIGKILL, with the same environment */
  restartConsumer(index?: number): Promise<SpawnedApp>;
  /** restarts a producer (the first by default) on the same port */
  restartProducer(index?: number): Promise<SpawnedApp>;
  stop(): Promise<void>;
}

/**
 * The whole product on the test run's own database, topics and Redis prefix, talking to a fresh emulator:
 * the real producer and consumer processes (one of each unless asked for more), configured exactly as an
 * operator would configure them.
 */
export async function startProduct(
  opts: {
    emulatorEnv?: Record<string, string>;
    appEnv?: Record<string, string>;
    /** how the consumers run: node flags (a benchmark profiling with `--cpu-prof`), the production build */
    consumerSpawn?: { nodeArgs?: string[]; built?: boolean };
    /** the same for the producers (a test measuring the producer's memory as deployed runs its build) */
    producerSpawn?: { nodeArgs?: string[]; built?: boolean };
    /**
     * both apps from their `nest build` bundles (built first when older than a source), whatever the mtimes say:
     * benchmarks, which measure the product as deployed; `consumerSpawn.built` / `producerSpawn.built` override it
     */
    built?: boolean;
    producers?: number;
    consumers?: number;
    /**
     * its own database, topic prefix and key prefix inside the run: for tests whose product's background work
     * (the subscription sweep over every account, say) must not meet other test files' accounts
     */
    isolated?: boolean;
    /**
     * the producers read their queries from the stack's streaming replica (DATABASE_READ_URL), as `npm start`
     * does; without it they read the primary (tests that do not care about the read side)
     */
    replica?: boolean;
  } = {},
): Promise<RunningProduct> {
  const producerPorts = await distinctPorts(opts.producers ?? 1);
  const consumerPorts = await distinctPorts(opts.consumers ?? 1);
  const apis = producerPorts.map((p) => `http://127.0.0.1:${p}`);
  const proxy = apis.length > 1 ? await startRoundRobinProxy(() => apis) : undefined;
  const api = proxy?.url ?? apis[0];
  const emulator = await startEmulator({
    EMULATOR_DEMO_REDIRECT_URIS: `${api}/api/v1/accounts/outlook/callback`,
    ...opts.emulatorEnv,
  });
  const run = opts.isolated ? await createChildRun(currentTestRun()) : undefined;
  const databaseReadUrl = opts.replica ? replicaUrlOf(run ?? currentTestRun()) : undefined;
  if (databaseReadUrl) await waitForReplicaDatabase(databaseReadUrl);
  const env: Record<string, string> = {
    ...testRunEnv(run ?? currentTestRun()),
    ...(databaseReadUrl ? { DATABASE_READ_URL: databaseReadUrl } : {}),
    JWT_SECRET: randomBytes(32).toString('hex'),
    // One key per test run (per isolated run), not per product: products of a run share its topics, and a message
    // one product sealed (a system mail's code, an account's tokens) and left unconsumed when its test ended is
    // read by the next product's consumer, which otherwise failed to open it and retried it to the dead letters.
    TOKEN_ENCRYPTION_KEYS: `k1:${runKey((run ?? currentTestRun()).id)}`,
    MS_CLIENT_ID: emulator.clientId,
    MS_CLIENT_SECRET: emulator.clientSecret,
    MS_AUTHORITY: `${emulator.origin}/common`,
    MS_GRAPH_BASE_URL: emulator.origin,
    PUBLIC_BASE_URL: api,
    PRODUCER_PORT: String(producerPorts[0]),
    CONSUMER_PORT: String(consumerPorts[0]),
    LOG_LEVEL: 'log',
    // the consumer's mailer sends through the stack's mail server (submission) when it runs
    ...systemMailEnv(),
    // the IMAP adapter reaches the stack's mail server (127.0.0.1, the project CA) as a user's server
    ...imapAdapterTestEnv(),
    ...opts.appEnv,
  };
  const realtimeInstanceIds: string[] = [];
  const producerEnv = (i: number) => ({
    // as an operator configures it: the Ops page's live panel reads every consumer's GET /metrics
    OPS_CONSUMER_METRICS_URLS: consumerPorts.map((p) => `http://127.0.0.1:${p}`).join(','),
    ...env,
    PRODUCER_PORT: String(producerPorts[i]),
    REALTIME_INSTANCE_ID: (realtimeInstanceIds[i] = `producer-${i}-${randomBytes(3).toString('hex')}`),
  });
  const consumerEnv = (i: number) => ({ ...env, CONSUMER_PORT: String(consumerPorts[i]) });
  const producerSpawn = { built: opts.built, ...opts.producerSpawn };
  const consumerSpawn = { built: opts.built, ...opts.consumerSpawn };
  const producers = producerPorts.map((_, i) => spawnApp('producer', producerEnv(i), producerSpawn));
  const consumers = consumerPorts.map((_, i) => spawnApp('consumer', consumerEnv(i), consumerSpawn));
  const healthy = (url: string, app: () => SpawnedApp) => waitForHealthy(app, url);
  const producerHealthy = (i: number) => healthy(`${apis[i]}/health`, () => producers[i]);
  const consumerHealthy = (i: number) =>
    healthy(`http://127.0.0.1:${consumerPorts[i]}/health`, () => consumers[i]);
  try {
    await Promise.all([
      ...producers.map((_, i) => producerHealthy(i)),
      ...consumers.map((_, i) => consumerHealthy(i)),
    ]);
    // An isolated product's topics are created by its apps at boot: a test that subscribes to them right after can
    // be ahead of the broker's metadata ("This server does not host this topic-partition", seen in CI twice), so the
    // product is ready only when every partition of its topics has a leader.
    if (run) {
      const admin = createKafka({ brokers: run.kafkaBrokers, clientId: 'test-product' }).admin();
      await admin.connect();
      try {
        await waitForPartitions(
          admin,
          Object.values(Topics).map((t) => ({ name: `${run.topicPrefix}${t}` })),
        );
      } finally {
        await admin.disconnect();
      }
    }
  } catch (err) {
    // a failed start leaves nothing running (Jest would otherwise wait on the survivors)
    await Promise.all([
      ...producers.map((p) => p.stop()),
      ...consumers.map((c) => c.stop()),
      emulator.stop(),
    ]);
    await proxy?.close();
    await run?.drop();
    throw err;
  }
  return {
    emulator,
    get producer() {
      return producers[0];
    },
    get consumer() {
      return consumers[0];
    },
    producers,
    consumers,
    api,
    apis,
    env,
    realtimeInstanceIds,
    databaseUrl: env.DATABASE_URL ?? currentTestRun().databaseUrl,
    databaseReadUrl,
    async restartConsumer(index = 0) {
      await consumers[index].stop();
      consumers[index] = spawnApp('consumer', consumerEnv(index), consumerSpawn);
      await consumerHealthy(index);
      return consumers[index];
    },
    async restartProducer(index = 0) {
      await producers[index].stop();
      producers[index] = spawnApp('producer', producerEnv(index), producerSpawn);
      await producerHealthy(index);
      return producers[index];
    },
    async stop() {
      await Promise.all([
        ...producers.map((p) => p.stop()),
        ...consumers.map((c) => c.stop()),
        emulator.stop(),
      ]);
      await proxy?.close();
      await run?.drop();
    },
  };
}

/** The run's database on the stack's replica; a test asking for one on a stack without it fails here, saying so. */
function replicaUrlOf(run: { databaseReadUrl?: string }): string {
  if (!run.databaseReadUrl) {
    throw new Error(
      "this test needs the stack's read replica (DATABASE_READ_URL in .stack/endpoints.env); run `npm run stack:up`",
    );
  }
  return run.databaseReadUrl;
}

async function distinctPorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
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
  /** called as the consent screen redirects back to the product (a benchmark's start line) */
  onConsent?: () => void,
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
  onConsent?.();
  const back = await fetch(callback, { redirect: 'manual', headers: { cookie } });
  const dashboard = back.headers.get('location');
  if (back.status !== 302 || !dashboard) throw new Error(`callback -> ${back.status} ${await back.text()}`);
  const failed = /linkError=([A-Z_]+)/.exec(dashboard)?.[1];
  if (failed) throw new Error(`callback -> the link failed: ${failed}`);
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

/** the token-encryption key of a test run: 32 bytes derived from its id */
function runKey(runId: string): string {
  return createHash('sha256').update(`email-core-test-run-key:${runId}`).digest('base64');
}
