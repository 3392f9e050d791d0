import { randomBytes } from 'node:crypto';
import {
  apiCall,
  codeInMail,
  devImapLinkBody,
  devMailServer,
  startProduct,
  waitFor,
  waitForAccountStatus,
  waitForMail,
  type DevMailServer,
  type RunningProduct,
  type SpawnedApp,
} from '@email-core/testing';

/** what the emulator's tokens look like, whoever holds them: JWTs (access and id tokens) and its refresh tokens */
const TOKEN_SHAPES = [/eyJ[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,}/, /0\.A[A-Za-z0-9_-]{100,}/];
const METRICS_TOKEN = randomBytes(24).toString('hex');
const REQUEST_ID = `redaction-${randomBytes(6).toString('hex')}`;

const secretValue = (tag: string) => `${tag}-${randomBytes(12).toString('base64url')}`;

type Line = Record<string, unknown> & { msg?: string; reqId?: string; level?: string };

/**
 * Issue 22 (logs): every secret the product handles goes through the real apps, at the most verbose level and
 * in production's JSON format, in every place a request can carry it (headers, cookies, JSON bodies, form bodies,
 * query strings), and none of them is found in the producer's, the consumer's or the emulator's output; while the
 * requests that carried them are shown to be logged, with their request ids, so the test cannot pass by logging
 * nothing.
 */
describe('log redaction (real apps, LOG_FORMAT=json, LOG_LEVEL=verbose)', () => {
  let product: RunningProduct;
  let mail: DevMailServer;
  /** every secret sent or received, by what it is */
  const secrets = new Map<string, string>();
  /** 6-digit sign-in codes: matched as whole numbers only */
  const codes = new Map<string, string>();
  const keep = (what: string, value: string | undefined | null) => {
    if (!value) throw new Error(`no ${what} to check`);
    secrets.set(what, value);
    return value;
  };
  const email = `redaction-${randomBytes(4).toString('hex')}@example.test`;
  const outlookMailbox = `redaction-${randomBytes(3).toString('hex')}@contoso.example`;
  const refreshOf = (headers: Headers) =>
    /^ec_refresh=([^;]+)/.exec(headers.getSetCookie().find((c) => c.startsWith('ec_refresh=')) ?? '')?.[1];
  const apps = (): Array<[string, SpawnedApp]> => [
    ['producer', product.producer],
    ['consumer', product.consumer],
    ['emulator', product.emulator.app],
  ];
  const linesOf = (app: SpawnedApp): Line[] =>
    app
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Line);

  beforeAll(async () => {
    const server = devMailServer();
    if (!server) throw new Error('no dev mail server: run `npm run stack:up` (MAIL_SUBMISSION, MAIL_IMAP)');
    mail = server;
    const logs = { LOG_FORMAT: 'json', LOG_LEVEL: 'verbose' };
    product = await startProduct({
      // its own topics: no other file's consumer takes (and cannot open) its sealed sign-in codes
      isolated: true,
      appEnv: { ...logs, METRICS_TOKEN },
      emulatorEnv: logs,
    });
    for (const name of ['JWT_SECRET', 'MS_CLIENT_SECRET', 'TOKEN_ENCRYPTION_KEYS'] as const) {
      keep(`env ${name}`, product.env[name]);
    }
    keep('the dev mail password', mail.password);
    keep('METRICS_TOKEN', METRICS_TOKEN);
    await product.emulator.admin('POST', '/_emulator/mailboxes', {
      address: outlookMailbox,
      displayName: 'Redaction Test',
      password: keep('an Outlook mailbox password (emulator sign-in form)', secretValue('mailbox-pw')),
      seed: { messages: 5, folders: 1, seed: 22 },
    });
  }, 180_000);

  afterAll(async () => {
    await product?.stop();
  });

  it('sends every secret through the apps: passwords, access/refresh/id tokens, cookies, codes, clientState, the metrics bearer', async () => {
    const api = product.api;
    // sign-up and sign-in passwords (JSON bodies), a wrong one too; access tokens (bodies), refresh cookies
    const password = keep('the sign-up password', secretValue('signup-pw'));
    const signUp = await apiCall<{ accessToken: string }>(api, 'POST', '/api/v1/auth/signup', {
      body: { email, password },
    });
    expect(signUp.status).toBe(201);
    keep('the sign-up access token', signUp.body.accessToken);
    keep('the sign-up refresh cookie', refreshOf(signUp.headers));
    const wrong = keep('a wrong sign-in password', secretValue('wrong-pw'));
    expect(
      (await apiCall(api, 'POST', '/api/v1/auth/signin', { body: { email, password: wrong } })).status,
    ).toBe(401);
    const signIn = await apiCall<{ accessToken: string }>(api, 'POST', '/api/v1/auth/signin', {
      body: { email, password },
    });
    expect(signIn.status).toBe(200);
    keep('the sign-in access token', signIn.body.accessToken);
    const refreshCookie = keep('the sign-in refresh cookie', refreshOf(signIn.headers));
    // the refresh cookie (Cookie header), rotated (Set-Cookie)
    const refreshed = await apiCall<{ accessToken: string }>(api, 'POST', '/api/v1/auth/refresh', {
      cookie: `ec_refresh=${refreshCookie}`,
    });
    expect(refreshed.status).toBe(200);
    const token = keep('the refreshed access token', refreshed.body.accessToken);
    keep('the rotated refresh cookie', refreshOf(refreshed.headers));

    // the bearer token (Authorization), with the caller's request id; a token in a query string too
    const accounts = await fetch(`${api}/api/v1/accounts`, {
      headers: { authorization: `Bearer ${token}`, 'x-request-id': REQUEST_ID },
    });
    expect(accounts.status).toBe(200);
    expect(accounts.headers.get('x-request-id')).toBe(REQUEST_ID);
    const inQuery = await fetch(`${api}/api/v1/me?access_token=${token}&code=${token}`);
    expect(inQuery.status).toBeGreaterThanOrEqual(400);

    // the address verification code sign-up mailed, and a sign-in code (each mailed, then sent in a JSON body)
    const verification = codeInMail((await waitForMail(mail, email, 1, 60_000))[0]);
    codes.set('the email verification code', verification);
    const verifiedEmail = await apiCall(api, 'POST', '/api/v1/auth/verify-email', {
      token,
      body: { code: verification },
    });
    expect(verifiedEmail.status).toBeLessThan(300);
    expect((await apiCall(api, 'POST', '/api/v1/auth/code/request', { body: { email } })).status).toBe(202);
    const code = codeInMail((await waitForMail(mail, email, 2, 60_000))[1]);
    codes.set('the sign-in code', code);
    const verified = await apiCall<{ accessToken: string }>(api, 'POST', '/api/v1/auth/code/verify', {
      body: { email, code },
    });
    expect(verified.status).toBe(200);
    keep('the code sign-in access token', verified.body.accessToken);

    // the Outlook link: the link cookie, the emulator's form password, the OAuth code and state in the callback's
    // query string (and in the emulator's Location header), the Graph tokens the producer gets for the code
    const authorize = await apiCall<{ url: string }>(api, 'GET', '/api/v1/accounts/outlook/authorize', {
      token,
    });
    expect(authorize.status).toBe(200);
    const linkCookie = authorize.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    keep('the link cookie', linkCookie.split('=')[1]);
    keep('the OAuth state', new URL(authorize.body.url).searchParams.get('state'));
    const consent = await fetch(authorize.body.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        login: outlookMailbox,
        password: secrets.get('an Outlook mailbox password (emulator sign-in form)') ?? '',
      }).toString(),
      redirect: 'manual',
    });
    const callback = consent.headers.get('location');
    expect([consent.status, callback]).toEqual([302, expect.stringContaining('/outlook/callback?')]);
    keep('the OAuth code', new URL(callback ?? '').searchParams.get('code'));
    const back = await fetch(callback ?? '', { redirect: 'manual', headers: { cookie: linkCookie } });
    expect(back.status).toBe(302);
    expect(back.headers.get('location')).not.toContain('linkError');
    // a forged callback: its code and state only ever in the query string
    const forgedCode = keep('a forged OAuth code', secretValue('forged-code'));
    const forgedState = keep('a forged OAuth state', secretValue('forged-state'));
    await fetch(`${api}/api/v1/accounts/outlook/callback?code=${forgedCode}&state=${forgedState}`, {
      redirect: 'manual',
      headers: { cookie: linkCookie },
    });
    await waitForAccountStatus(api, token, 'synced', { timeoutMs: 120_000 });

    // Graph's clientState: the subscription's own (in the emulator's notification bodies), and forged ones in
    // POSTs to both webhook paths (the fast lane, and the ordinary route a query string takes)
    const subscription = await waitFor(
      async () => {
        const subs = await product.emulator.admin<{
          value: Array<{ address: string; state: string; clientState: string | null; delivered: number }>;
        }>('GET', '/_emulator/subscriptions');
        return subs.value.find((s) => s.address === outlookMailbox && s.state === 'active' && s.clientState);
      },
      { timeoutMs: 60_000, what: "the mailbox's subscription" },
    );
    keep("the subscription's clientState", subscription.clientState);
    await product.emulator.admin('POST', `/_emulator/mailboxes/${outlookMailbox}/activity`, {
      creates: 2,
      updates: 0,
      moves: 0,
      deletes: 0,
      seed: 2202,
      wait: true,
    });
    await waitFor(
      async () => {
        const subs = await product.emulator.admin<{ value: Array<{ address: string; delivered: number }> }>(
          'GET',
          '/_emulator/subscriptions',
        );
        return (subs.value.find((s) => s.address === outlookMailbox)?.delivered ?? 0) > subscription.delivered
          ? true
          : undefined;
      },
      { timeoutMs: 60_000, what: 'a notification delivered with the real clientState' },
    );
    const forgedState2 = keep('a forged clientState', secretValue('client-state'));
    const notification = {
      value: [
        {
          subscriptionId: '4f1c2d3e-0000-4000-8000-000000000000',
          changeType: 'created',
          resource: 'Users/u-1/Messages/m-1',
          clientState: forgedState2,
          tenantId: '9188040d-6c67-4c5b-b112-36a304b66dad',
        },
      ],
    };
    for (const path of ['/api/v1/graph/notifications', '/api/v1/graph/notifications?tenant=1']) {
      const r = await fetch(`${api}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(notification),
      });
      expect(r.status).toBeLessThan(500);
    }

    // IMAP/SMTP passwords on link: the dev server's (it links) and a wrong one (IMAP_AUTH_FAILED)
    const imapAddress = `redaction-imap-${randomBytes(4).toString('hex')}@example.test`;
    const linked = await apiCall(api, 'POST', '/api/v1/accounts/imap', {
      token,
      body: devImapLinkBody(mail, imapAddress),
    });
    expect(linked.status).toBe(201);
    const imapWrong = keep('a wrong IMAP/SMTP password', secretValue('imap-pw'));
    const refused = await apiCall<{ error: string }>(api, 'POST', '/api/v1/accounts/imap', {
      token,
      body: devImapLinkBody(mail, `redaction-bad-${randomBytes(4).toString('hex')}@example.test`, imapWrong),
    });
    expect(refused.body.error).toBe('IMAP_AUTH_FAILED');

    // the METRICS_TOKEN bearer on both apps, and a wrong one
    const wrongMetrics = keep('a wrong metrics bearer', secretValue('metrics'));
    for (const base of [product.apis[0], `http://127.0.0.1:${product.env.CONSUMER_PORT}`]) {
      expect(
        (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status,
      ).toBe(200);
      expect(
        (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${wrongMetrics}` } })).status,
      ).toBe(401);
    }

    // an access token the emulator issues, used as a Graph client would (Authorization to the emulator)
    const graphToken = await product.emulator.admin<{ access_token: string }>('POST', '/_emulator/tokens', {
      address: outlookMailbox,
    });
    keep("an emulator's Graph access token", graphToken.access_token);
    const me = await fetch(`${product.emulator.origin}/v1.0/me`, {
      headers: { authorization: `Bearer ${graphToken.access_token}` },
    });
    expect(me.status).toBe(200);
  }, 300_000);

  it('logs those requests, one JSON line each with its request id and a redacted URL', async () => {
    // the last lines written (the emulator's metrics round, a notification's round) have had time to arrive
    await new Promise((resolve) => setTimeout(resolve, 1500));
    for (const [name, app] of apps()) {
      const lines = linesOf(app);
      expect([name, lines.length > 20]).toEqual([name, true]);
      // every line is JSON with a level name, the app and a time
      const malformed = lines.filter(
        (l) => typeof l.level !== 'string' || typeof l.time !== 'string' || typeof l.app !== 'string',
      );
      expect(malformed).toEqual([]);
    }
    const producer = linesOf(product.producer);
    const requestLine = (pattern: RegExp) =>
      producer.find((l) => typeof l.msg === 'string' && pattern.test(l.msg));
    // the caller's request id: on the request line, and returned
    expect(requestLine(/^GET \/api\/v1\/accounts 200 \d+ms$/)).toEqual(
      expect.objectContaining({ reqId: REQUEST_ID, level: 'info' }),
    );
    for (const pattern of [
      /^POST \/api\/v1\/auth\/signup 201 /,
      /^POST \/api\/v1\/auth\/signin 401 /,
      /^POST \/api\/v1\/auth\/signin 200 /,
      /^POST \/api\/v1\/auth\/refresh 200 /,
      /^POST \/api\/v1\/auth\/code\/verify 200 /,
      /^GET \/api\/v1\/me\?access_token=\[Redacted\]&code=\[Redacted\] 4\d\d /,
      /^GET \/api\/v1\/accounts\/outlook\/callback\?code=\[Redacted\]&state=\[Redacted\] 302 /,
      /^POST \/api\/v1\/graph\/notifications 202 /,
      /^POST \/api\/v1\/accounts\/imap 201 /,
      /^GET \/metrics 200 /,
      /^GET \/metrics 401 /,
    ]) {
      const line = requestLine(pattern);
      expect([String(pattern), line?.reqId]).toEqual([
        String(pattern),
        expect.stringMatching(/^[\w.:-]{8,}$/),
      ]);
      const req = line?.req as { method?: unknown; headers?: unknown } | undefined;
      expect([typeof req?.method, typeof req?.headers]).toEqual(['string', 'object']);
    }
    // the bearer token's request line has the header, redacted
    const withBearer = requestLine(/^GET \/api\/v1\/accounts 200 /) as {
      req?: { headers?: Record<string, string> };
    };
    expect(withBearer.req?.headers?.authorization).toBe('[Redacted]');
    const consumer = linesOf(product.consumer);
    expect(consumer.some((l) => /^GET \/metrics 200 /.test(l.msg ?? '') && l.reqId)).toBe(true);
    const emulator = linesOf(product.emulator.app);
    expect(emulator.some((l) => /^GET \/v1\.0\/me 200 /.test(l.msg ?? '') && l.level === 'debug')).toBe(true);
    expect(emulator.some((l) => /^POST \/common\/oauth2\/v2\.0\/token(\?\S*)? 200 /.test(l.msg ?? ''))).toBe(
      true,
    );
  });

  it('finds none of the secrets in any app output', () => {
    expect(secrets.size).toBeGreaterThanOrEqual(25);
    expect(codes.size).toBe(2);
    const leaks: string[] = [];
    for (const [name, app] of apps()) {
      const output = app.output();
      for (const [what, value] of secrets)
        if (output.includes(value)) leaks.push(`${what} in the ${name} output`);
      for (const [what, code] of codes) {
        if (new RegExp(`(?<![0-9])${code}(?![0-9])`).test(output))
          leaks.push(`${what} in the ${name} output`);
      }
      for (const shape of TOKEN_SHAPES) {
        const found = shape.exec(output)?.[0];
        if (found) leaks.push(`a token (${found.slice(0, 12)}...) in the ${name} output`);
      }
    }
    expect(leaks).toEqual([]);
  });
});
