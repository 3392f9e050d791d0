import { randomBytes } from 'node:crypto';
import type { Consumer } from 'kafkajs';
import { Client } from 'pg';
import { syncRequestedSchema, Topics, topicName, type SyncRequested } from '@email-core/contracts';
import { TokenCipher } from '@email-core/crypto';
import { createKafka, subscribeWhenReady } from '@email-core/kafka';
import {
  currentTestRun,
  freePort,
  spawnApp,
  startEmulator,
  testRunEnv,
  waitFor,
  type RunningEmulator,
  type SpawnedApp,
} from '@email-core/testing';

/**
 * Linking an Outlook mailbox end to end, on the real stack: the real producer process, the emulator's sign-in
 * form driven like a browser (cookies kept per "browser"), Postgres read directly, and the run's own
 * `sync.requests` topic read by a consumer of our own. Also the outbox relay's failure and multi-instance paths.
 */

const run = currentTestRun();
const MAILBOX_PASSWORD = 'mailbox password 1';
/** what leaked tokens would look like: JWTs (ours and the emulator's access tokens) and the emulator's refresh tokens */
const SECRET_PATTERNS = [/eyJ[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,}/, /0\.A[A-Za-z0-9_-]{100,}/];

interface HttpResult<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
  text: string;
}

interface KafkaSeen {
  key: string;
  value: string;
  outboxId: string;
}

/** A browser: its own cookie jar for the API's origin. */
class Browser {
  private readonly jar = new Map<string, string>();

  get cookie(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  /** a cookie this browser got from elsewhere (e.g. planted by a sibling subdomain) */
  plant(name: string, value: string): void {
    this.jar.set(name, value);
  }

  keep(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      if (i > 0) this.jar.set(pair.slice(0, i).trim(), pair.slice(i + 1).trim());
    }
  }
}

describe('linking an Outlook account (producer + emulator + Postgres + Kafka)', () => {
  let emu: RunningEmulator;
  let api: string;
  let env: Record<string, string>;
  let producer: SpawnedApp;
  /** every producer process this suite started, for the final scan of their output */
  const producers: SpawnedApp[] = [];
  const db = new Client({ connectionString: run.databaseUrl });
  let kafkaConsumer: Consumer;
  const seen: KafkaSeen[] = [];
  /** every API response body and every authorization code seen, for the final scan */
  const responses: string[] = [];
  const codes: string[] = [];
  /** every Microsoft token the producer stored, decrypted here with the test's key, for the final scan */
  const tokens: string[] = [];
  let cipher: TokenCipher;
  /** each emulator mailbox's Graph user id (`/me` id) */
  const graphUserIds = new Map<string, string>();

  const alice = `alice-${randomBytes(3).toString('hex')}@contoso.example`;
  const bob = `bob-${randomBytes(3).toString('hex')}@fabrikam.example`;

  const http = async <T = unknown>(
    method: string,
    path: string,
    opts: { token?: string; browser?: Browser; base?: string } = {},
  ): Promise<HttpResult<T>> => {
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.browser?.cookie) headers.cookie = opts.browser.cookie;
    const res = await fetch(`${opts.base ?? api}${path}`, {
      method,
      headers,
      redirect: 'manual',
      signal: AbortSignal.timeout(30000),
    });
    opts.browser?.keep(res);
    const text = await res.text();
    responses.push(text);
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON
    }
    return { status: res.status, body: body as T, headers: res.headers, text };
  };

  const startProducer = async (extra: Record<string, string> = {}, waitHealthy = true) => {
    const app = spawnApp('producer', { ...env, ...extra });
    producers.push(app);
    const port = extra.PRODUCER_PORT ?? env.PRODUCER_PORT;
    await waitFor(
      async () => {
        if (app.child.exitCode !== null) throw new Error(`producer exited: ${app.output()}`);
        const r = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(3000) });
        if (waitHealthy) return r.status === 200 ? true : undefined;
        // Kafka may be unreachable on purpose: then wait only for the database connection, which the process
        // makes in the background after it starts listening
        const report = (await r.json()) as { details?: { postgres?: { status?: string } } };
        return report.details?.postgres?.status === 'up' ? true : undefined;
      },
      { timeoutMs: 60000, intervalMs: 300, what: `producer on ${port}` },
    );
    return app;
  };

  const signUp = async (): Promise<{ token: string; userId: string }> => {
    const email = `user-${randomBytes(4).toString('hex')}@example.test`;
    const res = await fetch(`${api}/api/v1/auth/signup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: 'correct horse battery staple' }),
    });
    const body = (await res.json()) as { accessToken: string; user: { id: string } };
    expect(res.status).toBe(201);
    return { token: body.accessToken, userId: body.user.id };
  };

  /** authorize, then the emulator's sign-in form; returns our callback URL as Microsoft redirected to it */
  const signInAtMicrosoft = async (
    token: string,
    browser: Browser,
    form: Record<string, string>,
  ): Promise<URL> => {
    const auth = await http<{ url: string }>('GET', '/api/v1/accounts/outlook/authorize', { token, browser });
    expect(auth.status).toBe(200);
    const page = await fetch(auth.body.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('name="login"');
    const signIn = await fetch(auth.body.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form),
      redirect: 'manual',
    });
    expect(signIn.status).toBe(302);
    const callback = new URL(signIn.headers.get('location') ?? '');
    expect(`${callback.origin}${callback.pathname}`).toBe(`${api}/api/v1/accounts/outlook/callback`);
    const code = callback.searchParams.get('code');
    if (code) codes.push(code);
    return callback;
  };

  const callback = (url: URL, browser: Browser) =>
    http<{ error: string; message: string }>('GET', `${url.pathname}${url.search}`, { browser });

  /** A failed callback sends the browser to the dashboard's accounts page with the code; returns that code. */
  const linkError = (res: Awaited<ReturnType<typeof callback>>): string | null => {
    expect(res.status).toBe(302);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const m = /^(.*)\/#\/accounts\?linkError=([A-Z_]+)$/.exec(res.headers.get('location') ?? '');
    expect(m?.[1]).toBe(api);
    return m?.[2] ?? null;
  };

  /** the whole flow a user goes through; returns the linked account id */
  const link = async (token: string, address: string, browser = new Browser()): Promise<string> => {
    const back = await callback(
      await signInAtMicrosoft(token, browser, { login: address, password: MAILBOX_PASSWORD }),
      browser,
    );
    expect(back.status).toBe(302);
    const landing = back.headers.get('location') ?? '';
    const m = /^(.*)\/#\/accounts\?linked=([0-9a-f-]{36})$/.exec(landing);
    expect(m?.[1]).toBe(api);
    return m?.[2] ?? '';
  };

  const accountCount = async () =>
    Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM mail_accounts')).rows[0]?.n);

  const outboxFor = async (accountId: string) =>
    (
      await db.query<{
        id: string;
        topic: string;
        message_key: string;
        payload: SyncRequested;
        published_at: Date | null;
        attempts: number;
        last_error: string | null;
      }>(
        `SELECT id, topic, message_key, payload, published_at, attempts, last_error FROM outbox
         WHERE message_key = $1 ORDER BY id`,
        [accountId],
      )
    ).rows;

  const kafkaFor = (accountId: string) => seen.filter((m) => m.key === accountId);

  /**
   * The account's tokens in plaintext, opened the way the token vault seals them (AES-256-GCM, key id in
   * `token_key_id`, bound to `mail_accounts:<id>:<column>`); the ciphertexts are checked not to contain them.
   */
  const storedTokens = async (accountId: string) => {
    const { rows } = await db.query<{ k: string; a: string; r: string }>(
      'SELECT token_key_id AS k, access_token_enc AS a, refresh_token_enc AS r FROM mail_accounts WHERE id = $1',
      [accountId],
    );
    const row = rows[0];
    if (!row) throw new Error(`no account ${accountId}`);
    const access = cipher.open({ keyId: row.k, data: row.a }, `mail_accounts:${accountId}:access_token`);
    const refresh = cipher.open({ keyId: row.k, data: row.r }, `mail_accounts:${accountId}:refresh_token`);
    for (const plain of [access, refresh]) {
      expect(plain.length).toBeGreaterThan(20);
      expect(row.a).not.toContain(plain);
      expect(row.r).not.toContain(plain);
      tokens.push(plain);
    }
    return { access, refresh };
  };

  beforeAll(async () => {
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    emu = await startEmulator({
      EMULATOR_DEMO_REDIRECT_URIS: `${api}/api/v1/accounts/outlook/callback`,
      EMULATOR_DEMO_CLIENT_SECRET: randomBytes(16).toString('hex'),
    });
    for (const [address, displayName] of [
      [alice, 'Alice Adams'],
      [bob, 'Bob Berg'],
    ]) {
      const created = await emu.admin<{ userId: string }>('POST', '/_emulator/mailboxes', {
        address,
        displayName,
        password: MAILBOX_PASSWORD,
        seed: { messages: 5 },
      });
      graphUserIds.set(address, created.userId);
    }
    const key = randomBytes(32);
    cipher = new TokenCipher([{ id: 'k1', key }]);
    env = {
      ...testRunEnv(run),
      JWT_SECRET: randomBytes(32).toString('hex'),
      TOKEN_ENCRYPTION_KEYS: `k1:${key.toString('base64')}`,
      MS_CLIENT_ID: emu.clientId,
      MS_CLIENT_SECRET: emu.clientSecret,
      MS_AUTHORITY: `${emu.origin}/common`,
      MS_GRAPH_BASE_URL: emu.origin,
      PUBLIC_BASE_URL: api,
      PRODUCER_PORT: String(port),
      // what operators run with: the scan for leaked tokens covers the lines they would see
      LOG_LEVEL: 'log',
      // the shared-outbox test sends 40 resyncs for one user in a burst: above the per-user resync limit
      RESYNC_RATE_LIMIT_PER_MINUTE: '1000',
    };
    await db.connect();
    kafkaConsumer = createKafka({ brokers: run.kafkaBrokers, clientId: 'link-account-e2e' }).consumer({
      groupId: `${run.topicPrefix}link-account-e2e-${randomBytes(3).toString('hex')}`,
    });
    await kafkaConsumer.connect();
    await subscribeWhenReady(kafkaConsumer, {
      topics: [topicName(run.topicPrefix, Topics.syncRequests)],
      fromBeginning: true,
    });
    await kafkaConsumer.run({
      eachMessage: ({ message }) => {
        seen.push({
          key: message.key?.toString() ?? '',
          value: message.value?.toString() ?? '',
          outboxId: message.headers?.['outbox-id']?.toString() ?? '',
        });
        return Promise.resolve();
      },
    });
    producer = await startProducer();
  }, 120000);

  afterAll(async () => {
    await Promise.all(producers.map((p) => p.stop()));
    await kafkaConsumer?.disconnect();
    await db.end();
    await emu?.stop();
  });

  let userA: { token: string; userId: string };
  let userB: { token: string; userId: string };
  let aliceAccount: string;

  it('authorize needs a signed-in user, and answers the sign-in URL as JSON without the PKCE verifier', async () => {
    userA = await signUp();
    userB = await signUp();
    const anonymous = await http('GET', '/api/v1/accounts/outlook/authorize');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toMatchObject({ error: 'UNAUTHENTICATED' });

    const browser = new Browser();
    const res = await http<{ url: string }>('GET', '/api/v1/accounts/outlook/authorize', {
      token: userA.token,
      browser,
    });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(['url']);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const url = new URL(res.body.url);
    expect(`${url.origin}${url.pathname}`).toBe(`${emu.origin}/common/oauth2/v2.0/authorize`);
    expect(url.searchParams.get('redirect_uri')).toBe(`${api}/api/v1/accounts/outlook/callback`);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/); // 256 bits
    expect(url.searchParams.has('code_verifier')).toBe(false);
    // the link cookie that binds the state to this browser
    const setCookie = res.headers.getSetCookie().join('\n');
    expect(setCookie).toMatch(/ec_link=[A-Za-z0-9_-]{43}; Max-Age=600; Path=\/api\/v1\/accounts\/outlook;/);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Lax/);

    // two authorizations never share a state
    const again = await http<{ url: string }>('GET', '/api/v1/accounts/outlook/authorize', {
      token: userA.token,
      browser,
    });
    expect(new URL(again.body.url).searchParams.get('state')).not.toBe(url.searchParams.get('state'));
  });

  it('?redirect=true answers 302 to the sign-in page, still only with the bearer token', async () => {
    const res = await http('GET', '/api/v1/accounts/outlook/authorize?redirect=true', {
      token: userA.token,
      browser: new Browser(),
    });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toMatch(new RegExp(`^${emu.origin}/common/oauth2/v2.0/authorize\\?`));
    expect((await http('GET', '/api/v1/accounts/outlook/authorize?redirect=true')).status).toBe(401);
  });

  it('authorize is rate-limited per user: the 31st in ten minutes is 429 RATE_LIMITED with Retry-After', async () => {
    const { token } = await signUp();
    for (let i = 0; i < 30; i++) {
      expect((await http('GET', '/api/v1/accounts/outlook/authorize', { token })).status).toBe(200);
    }
    const limited = await http('GET', '/api/v1/accounts/outlook/authorize', { token });
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ error: 'RATE_LIMITED' });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    // another user is not affected
    expect((await http('GET', '/api/v1/accounts/outlook/authorize', { token: userB.token })).status).toBe(
      200,
    );
  });

  it('links through the sign-in form: 302 to the dashboard, tokens encrypted, sync.requested published via the outbox', async () => {
    const before = await accountCount();
    aliceAccount = await link(userA.token, alice);
    expect(await accountCount()).toBe(before + 1);

    const { rows } = await db.query<{
      user_id: string;
      provider: string;
      external_user_id: string;
      email: string;
      display_name: string;
      status: string;
      token_key_id: string | null;
      access_token_enc: string | null;
      refresh_token_enc: string | null;
      access_token_expires_at: Date | null;
    }>('SELECT * FROM mail_accounts WHERE id = $1', [aliceAccount]);
    const row = rows[0];
    expect(row).toMatchObject({
      user_id: userA.userId,
      provider: 'outlook',
      external_user_id: graphUserIds.get(alice),
      email: alice,
      display_name: 'Alice Adams',
      status: 'syncing',
      token_key_id: 'k1',
    });
    expect(row?.access_token_expires_at?.getTime()).toBeGreaterThan(Date.now());
    for (const enc of [row?.access_token_enc, row?.refresh_token_enc]) {
      expect(enc).toEqual(expect.any(String));
      for (const p of SECRET_PATTERNS) expect(enc).not.toMatch(p);
    }
    // the plaintext is a real token set: the emulator accepts the access token for this mailbox
    const { access } = await storedTokens(aliceAccount);
    const me = await fetch(`${emu.origin}/v1.0/me`, { headers: { authorization: `Bearer ${access}` } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ id: graphUserIds.get(alice) });

    // the list shows it, with exactly the public fields
    const list = await http<{ items: Array<Record<string, unknown>> }>('GET', '/api/v1/accounts', {
      token: userA.token,
    });
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(1);
    expect(Object.keys(list.body.items[0] ?? {}).sort()).toEqual(
      [
        'createdAt',
        'displayName',
        'email',
        'id',
        'provider',
        'signatureHtml',
        'status',
        'statusReason',
        'syncCompletedAt',
        'syncProgress',
        'syncStartedAt',
      ].sort(),
    );
    expect(list.body.items[0]).toMatchObject({
      id: aliceAccount,
      provider: 'outlook',
      email: alice,
      status: 'syncing',
    });

    // the outbox row is published and the message is on the run's topic, keyed by account
    const published = await waitFor(
      async () => {
        const rows = await outboxFor(aliceAccount);
        return rows.length === 1 && rows[0]?.published_at ? rows : undefined;
      },
      { timeoutMs: 20000, what: 'the outbox row to be published' },
    );
    expect(published[0]).toMatchObject({ topic: Topics.syncRequests, last_error: null });
    const onKafka = await waitFor(() => Promise.resolve(kafkaFor(aliceAccount)[0]), {
      timeoutMs: 30000,
      what: 'sync.requested on Kafka',
    });
    const message = syncRequestedSchema.parse(JSON.parse(onKafka.value));
    expect(message).toMatchObject({ type: 'sync.requested', accountId: aliceAccount, reason: 'linked' });
    expect(onKafka.outboxId).toBe(published[0]?.id);
  });

  it('several accounts per user; re-linking the same mailbox keeps its id, takes new tokens and resyncs', async () => {
    const bobAccount = await link(userA.token, bob);
    expect(bobAccount).not.toBe(aliceAccount);

    await db.query(
      `UPDATE mail_accounts SET status = 'reauth_required', status_reason = 'revoked' WHERE id = $1`,
      [aliceAccount],
    );
    const tokensBefore = (
      await db.query<{ a: string; r: string }>(
        'SELECT access_token_enc AS a, refresh_token_enc AS r FROM mail_accounts WHERE id = $1',
        [aliceAccount],
      )
    ).rows[0];
    const refused = await http('POST', `/api/v1/accounts/${aliceAccount}/resync`, { token: userA.token });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: 'REAUTH_REQUIRED' });
    expect(await link(userA.token, alice)).toBe(aliceAccount);
    const after = (
      await db.query<{ a: string; r: string; status: string; status_reason: string | null }>(
        'SELECT access_token_enc AS a, refresh_token_enc AS r, status, status_reason FROM mail_accounts WHERE id = $1',
        [aliceAccount],
      )
    ).rows[0];
    expect(after).toMatchObject({ status: 'syncing', status_reason: null });
    expect(after?.a).not.toBe(tokensBefore?.a);
    expect(after?.r).not.toBe(tokensBefore?.r);
    await storedTokens(aliceAccount);
    await storedTokens(bobAccount);

    const reasons = await waitFor(
      () => {
        const r = kafkaFor(aliceAccount).map((m) => (JSON.parse(m.value) as SyncRequested).reason);
        return Promise.resolve(r.length >= 2 ? r : undefined);
      },
      { timeoutMs: 20000, what: 'the relinked message' },
    );
    expect(reasons).toEqual(['linked', 'relinked']);
    const list = await http<{ items: Array<{ id: string }> }>('GET', '/api/v1/accounts', {
      token: userA.token,
    });
    expect(list.body.items.map((a) => a.id).sort()).toEqual([aliceAccount, bobAccount].sort());
  });

  it('a tampered state: back to the dashboard with INVALID_STATE, nothing linked', async () => {
    const { userId, token } = await signUp();
    const browser = new Browser();
    const url = await signInAtMicrosoft(token, browser, { login: alice, password: MAILBOX_PASSWORD });
    const state = url.searchParams.get('state') ?? '';
    const flipped = `${state.slice(0, -1)}${state.endsWith('A') ? 'B' : 'A'}`;
    for (const bad of [flipped, `${state}x`, '', 'not-a-state']) {
      const tampered = new URL(url);
      tampered.searchParams.set('state', bad);
      const res = await callback(tampered, browser);
      expect(linkError(res)).toBe('INVALID_STATE');
    }
    const noState = new URL(url);
    noState.searchParams.delete('state');
    expect(linkError(await callback(noState, browser))).toBe('INVALID_STATE');
    const owned = await db.query('SELECT 1 FROM mail_accounts WHERE user_id = $1', [userId]);
    expect(owned.rowCount).toBe(0);
  });

  it('a replayed state: INVALID_STATE, whether the first use succeeded or not', async () => {
    const { userId, token } = await signUp();
    const browser = new Browser();
    const url = await signInAtMicrosoft(token, browser, { login: alice, password: MAILBOX_PASSWORD });
    expect((await callback(url, browser)).status).toBe(302);
    const again = await callback(url, browser);
    expect(linkError(again)).toBe('INVALID_STATE');
    expect((await db.query('SELECT 1 FROM mail_accounts WHERE user_id = $1', [userId])).rowCount).toBe(1);

    // a state spent by a failed callback (no code) cannot be used afterwards with the code either
    const url2 = await signInAtMicrosoft(token, browser, { login: bob, password: MAILBOX_PASSWORD });
    const withoutCode = new URL(url2);
    withoutCode.searchParams.delete('code');
    expect(linkError(await callback(withoutCode, browser))).toBe('MISSING_CODE');
    expect(linkError(await callback(url2, browser))).toBe('INVALID_STATE');
    expect((await db.query('SELECT 1 FROM mail_accounts WHERE user_id = $1', [userId])).rowCount).toBe(1);
  });

  it('a missing code: MISSING_CODE; consent refused at Microsoft: CONSENT_DENIED; nothing linked', async () => {
    const { userId, token } = await signUp();
    const browser = new Browser();
    const url = await signInAtMicrosoft(token, browser, { login: alice, password: MAILBOX_PASSWORD });
    url.searchParams.delete('code');
    const missing = await callback(url, browser);
    expect(linkError(missing)).toBe('MISSING_CODE');

    const cancelled = await signInAtMicrosoft(token, browser, { cancel: '1' });
    expect(cancelled.searchParams.get('error')).toBe('access_denied');
    const denied = await callback(cancelled, browser);
    expect(linkError(denied)).toBe('CONSENT_DENIED');
    expect((await db.query('SELECT 1 FROM mail_accounts WHERE user_id = $1', [userId])).rowCount).toBe(0);
  });

  it("another user's state, completed in another browser: INVALID_STATE and nothing linked", async () => {
    // A starts a link and gets the sign-in URL; B (another browser, signed in to their own mailbox) completes it.
    // Without the browser binding, B's mailbox would land in A's account.
    const { userId, token } = await signUp();
    const attackerBrowser = new Browser();
    const url = await signInAtMicrosoft(token, attackerBrowser, { login: bob, password: MAILBOX_PASSWORD });
    const victimBrowser = new Browser();
    const res = await callback(url, victimBrowser);
    expect(linkError(res)).toBe('INVALID_STATE');
    // B's own link cookie does not help either
    await http('GET', '/api/v1/accounts/outlook/authorize', { token: userB.token, browser: victimBrowser });
    const url2 = await signInAtMicrosoft(token, attackerBrowser, { login: bob, password: MAILBOX_PASSWORD });
    expect(linkError(await callback(url2, victimBrowser))).toBe('INVALID_STATE');
    expect((await db.query('SELECT 1 FROM mail_accounts WHERE user_id = $1', [userId])).rowCount).toBe(0);
    expect((await db.query('SELECT 1 FROM mail_accounts WHERE user_id = $1', [userB.userId])).rowCount).toBe(
      0,
    );
  });

  it('a callback without the right link cookie does not spend the state: the browser that started the link completes it', async () => {
    const { userId, token } = await signUp();
    const browser = new Browser();
    const url = await signInAtMicrosoft(token, browser, { login: alice, password: MAILBOX_PASSWORD });
    // another browser arrives first with the URL: without a cookie, then with a planted one
    expect(linkError(await callback(url, new Browser()))).toBe('INVALID_STATE');
    const planted = new Browser();
    planted.plant('ec_link', 'P'.repeat(43));
    expect(linkError(await callback(url, planted))).toBe('INVALID_STATE');
    expect((await db.query('SELECT 1 FROM mail_accounts WHERE user_id = $1', [userId])).rowCount).toBe(0);
    // the state is still there for the right browser
    const back = await callback(url, browser);
    expect(back.status).toBe(302);
    expect(back.headers.get('location')).toMatch(/\/#\/accounts\?linked=[0-9a-f-]{36}$/);
    expect((await db.query('SELECT 1 FROM mail_accounts WHERE user_id = $1', [userId])).rowCount).toBe(1);
    // and spent by it
    expect(linkError(await callback(url, browser))).toBe('INVALID_STATE');
  });

  it('over https the link cookie is __Host-ec_link: Secure, Path=/, no Domain', async () => {
    const port = await freePort();
    const httpsApp = await startProducer({
      PRODUCER_PORT: String(port),
      PUBLIC_BASE_URL: 'https://mail.example.test',
    });
    try {
      const { token } = await signUp();
      const res = await http<{ url: string }>('GET', '/api/v1/accounts/outlook/authorize', {
        token,
        base: `http://127.0.0.1:${port}`,
      });
      expect(res.status).toBe(200);
      const cookies = res.headers.getSetCookie();
      expect(cookies).toHaveLength(1);
      const attrs = (cookies[0] ?? '').split(';').map((a) => a.trim());
      expect(attrs[0]).toMatch(/^__Host-ec_link=[A-Za-z0-9_-]{43}$/);
      expect(attrs).toEqual(
        expect.arrayContaining(['Max-Age=600', 'Path=/', 'HttpOnly', 'Secure', 'SameSite=Lax']),
      );
      expect(attrs.some((a) => /^domain=/i.test(a))).toBe(false);
    } finally {
      await httpsApp.stop();
    }
  });

  it("another user's account: not listed, and delete/resync answer 404 ACCOUNT_NOT_FOUND", async () => {
    const list = await http<{ items: unknown[] }>('GET', '/api/v1/accounts', { token: userB.token });
    expect(list.body.items).toEqual([]);
    for (const [method, path] of [
      ['DELETE', `/api/v1/accounts/${aliceAccount}`],
      ['POST', `/api/v1/accounts/${aliceAccount}/resync`],
      ['DELETE', '/api/v1/accounts/not-a-uuid'],
      ['POST', `/api/v1/accounts/00000000-0000-4000-8000-000000000000/resync`],
    ] as const) {
      const res = await http(method, path, { token: userB.token });
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ error: 'ACCOUNT_NOT_FOUND' });
    }
    expect((await db.query('SELECT 1 FROM mail_accounts WHERE id = $1', [aliceAccount])).rowCount).toBe(1);
    expect((await http('GET', '/api/v1/accounts')).status).toBe(401);
  });

  it('resync: 202, and a sync.requested (manual) reaches Kafka', async () => {
    const res = await http<{ accountId: string; requestedAt: string }>(
      'POST',
      `/api/v1/accounts/${aliceAccount}/resync`,
      { token: userA.token },
    );
    expect(res.status).toBe(202);
    expect(res.body.accountId).toBe(aliceAccount);
    const manual = await waitFor(
      () =>
        Promise.resolve(
          kafkaFor(aliceAccount)
            .map((m) => syncRequestedSchema.parse(JSON.parse(m.value)))
            .find((m) => m.reason === 'manual'),
        ),
      { timeoutMs: 20000, what: 'the manual sync.requested' },
    );
    expect(manual.requestedAt).toBe(res.body.requestedAt);
  });

  it('the outbox outlives an unreachable Kafka: rows stay pending with attempts and error, then go out', async () => {
    await producer.stop();
    const dead = await freePort();
    const port = await freePort();
    const cut = await startProducer(
      { PRODUCER_PORT: String(port), KAFKA_BROKERS: `127.0.0.1:${dead}` },
      false,
    );
    const res = await http('POST', `/api/v1/accounts/${aliceAccount}/resync`, {
      token: userA.token,
      base: `http://127.0.0.1:${port}`,
    });
    expect(res.status).toBe(202);
    const failing = await waitFor(
      async () => {
        const rows = (await outboxFor(aliceAccount)).filter((r) => !r.published_at);
        return rows[0] && rows[0].attempts >= 2 && rows[0].last_error ? rows[0] : undefined;
      },
      { timeoutMs: 60000, intervalMs: 500, what: 'failed attempts recorded on the pending row' },
    );
    expect(failing.published_at).toBeNull();
    await cut.stop();
    // the process that wrote the row is gone; another one publishes it
    producer = await startProducer();
    await waitFor(
      async () => {
        const rows = await outboxFor(aliceAccount);
        return rows.find((r) => r.id === failing.id)?.published_at ? true : undefined;
      },
      { timeoutMs: 30000, what: 'the pending row to be published after Kafka came back' },
    );
    await waitFor(() => Promise.resolve(seen.some((m) => m.outboxId === failing.id) || undefined), {
      timeoutMs: 30000,
      what: 'the retried message on Kafka',
    });
  });

  it('a row that breaks its contract is set aside once and does not hold up the rows behind it', async () => {
    const bad = await db.query<{ id: string }>(
      `INSERT INTO outbox (topic, message_key, message_type, payload) VALUES
         ($1, $2, 'sync.requested', '{"type":"sync.requested","v":1,"accountId":"nope"}'),
         ('no.such.topic', $2, 'sync.requested', '{}')
       RETURNING id`,
      [Topics.syncRequests, aliceAccount],
    );
    const res = await http('POST', `/api/v1/accounts/${aliceAccount}/resync`, { token: userA.token });
    expect(res.status).toBe(202);
    const good = await waitFor(
      async () => {
        const rows = await outboxFor(aliceAccount);
        const last = rows[rows.length - 1];
        return last?.published_at ? last : undefined;
      },
      { timeoutMs: 20000, what: 'the valid row behind the invalid ones to be published' },
    );
    expect(Number(good.id)).toBeGreaterThan(Number(bad.rows[1]?.id));
    await new Promise((r) => setTimeout(r, 1000)); // several polls: the rejected rows are not claimed again
    const rows = (await outboxFor(aliceAccount)).filter((r) => bad.rows.some((b) => b.id === r.id));
    expect(rows.map((r) => [r.published_at, r.attempts])).toEqual([
      [null, 1],
      [null, 1],
    ]);
    expect(rows[0]?.last_error).toBe(
      'rejected: accountId: invalid_string; reason: invalid_type; requestedAt: invalid_type',
    );
    expect(rows[1]?.last_error).toBe('rejected: unknown topic "no.such.topic"');
    expect(seen.some((m) => bad.rows.some((b) => b.id === m.outboxId))).toBe(false);
  });

  it('two producer instances share the outbox: every row published exactly once', async () => {
    const port = await freePort();
    const second = await startProducer({ PRODUCER_PORT: String(port) });
    const bases = [api, `http://127.0.0.1:${port}`];
    const requests = 40;
    const before = new Set((await outboxFor(aliceAccount)).map((r) => r.id));
    await Promise.all(
      Array.from({ length: requests }, (_, i) =>
        http('POST', `/api/v1/accounts/${aliceAccount}/resync`, { token: userA.token, base: bases[i % 2] }),
      ),
    );
    const rows = await waitFor(
      async () => {
        const fresh = (await outboxFor(aliceAccount)).filter((r) => !before.has(r.id));
        return fresh.length === requests && fresh.every((r) => r.published_at) ? fresh : undefined;
      },
      { timeoutMs: 30000, what: 'all rows published' },
    );
    const ids = new Set(rows.map((r) => r.id));
    await waitFor(
      () => Promise.resolve(seen.filter((m) => ids.has(m.outboxId)).length >= requests || undefined),
      { timeoutMs: 30000, what: 'every message on Kafka' },
    );
    // a moment for any duplicate to show up
    await new Promise((r) => setTimeout(r, 1000));
    const delivered = seen.filter((m) => ids.has(m.outboxId)).map((m) => m.outboxId);
    expect(delivered).toHaveLength(requests);
    expect(new Set(delivered).size).toBe(requests);
    await second.stop();
  });

  it('unlink: 204, the account and its mail are gone, then 404', async () => {
    await db.query(
      `INSERT INTO mail_folders (account_id, remote_id, display_name) VALUES ($1, 'f1', 'Inbox')`,
      [aliceAccount],
    );
    await db.query(
      `INSERT INTO messages (account_id, remote_id, folder_remote_id, change_key, received_at)
       VALUES ($1, 'm1', 'f1', 'ck', now())`,
      [aliceAccount],
    );
    await db.query(
      `INSERT INTO message_bodies (account_id, remote_id, content_type, content) VALUES ($1, 'm1', 'text', 'hi')`,
      [aliceAccount],
    );
    const res = await http('DELETE', `/api/v1/accounts/${aliceAccount}`, { token: userA.token });
    expect(res.status).toBe(204);
    for (const table of ['mail_accounts', 'mail_folders', 'messages', 'message_bodies']) {
      const column = table === 'mail_accounts' ? 'id' : 'account_id';
      const left = await db.query(`SELECT 1 FROM ${table} WHERE ${column} = $1`, [aliceAccount]);
      expect([table, left.rowCount]).toEqual([table, 0]);
    }
    const list = await http<{ items: Array<{ id: string }> }>('GET', '/api/v1/accounts', {
      token: userA.token,
    });
    expect(list.body.items.map((a) => a.id)).not.toContain(aliceAccount);
    const again = await http('DELETE', `/api/v1/accounts/${aliceAccount}`, { token: userA.token });
    expect(again.status).toBe(404);
    expect(again.body).toMatchObject({ error: 'ACCOUNT_NOT_FOUND' });
  });

  it('no token or authorization code in any producer log line, Kafka message, API response or raw column', async () => {
    const haystacks = [...producers.map((p) => p.output()), ...seen.map((m) => m.value), ...responses].join(
      '\n',
    );
    expect(codes.length).toBeGreaterThan(3);
    expect(tokens.length).toBeGreaterThanOrEqual(6);
    for (const secret of [...codes, ...tokens]) expect(haystacks).not.toContain(secret);
    for (const p of SECRET_PATTERNS) expect(haystacks).not.toMatch(p);
    const columns = await db.query<{ a: string | null; r: string | null }>(
      'SELECT access_token_enc AS a, refresh_token_enc AS r FROM mail_accounts',
    );
    for (const { a, r } of columns.rows) for (const p of SECRET_PATTERNS) expect(`${a} ${r}`).not.toMatch(p);
  });
});
