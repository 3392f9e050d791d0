import { createHash, randomBytes } from 'node:crypto';
import { startEmulator, type RunningEmulator } from '@email-core/testing';

/**
 * Every refusal of the emulator's identity endpoints, checked for what clients branch on (status, `error`,
 * `error_codes`) and for AAD's exact body shape. Expiry cases run against a second emulator whose lifetimes are
 * shortened through the environment.
 */

const GUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const TIMESTAMP = '\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}Z';
const address = 'erin@adventure-works.example';
const password = 'p4ssw0rd!';

interface Pkce {
  verifier: string;
  challenge: string;
}

function pkce(): Pkce {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

interface TokenAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** helpers bound to one running emulator */
function against(emu: RunningEmulator) {
  const tokenUrl = `${emu.origin}/common/oauth2/v2.0/token`;
  const authorizeUrl = (params: Record<string, string>): string =>
    `${emu.origin}/common/oauth2/v2.0/authorize?${new URLSearchParams({
      client_id: emu.clientId,
      response_type: 'code',
      redirect_uri: emu.redirectUri,
      scope: 'openid profile offline_access Mail.Read',
      state: 'st-1',
      ...params,
    }).toString()}`;

  const postForm = (url: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form),
      redirect: 'manual',
    });

  const token = async (
    form: Record<string, string>,
    headers: Record<string, string> = {},
  ): Promise<TokenAnswer> => {
    const res = await postForm(tokenUrl, form, headers);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  /** signs in through the page and returns the code */
  const code = async (p: Pkce = pkce(), params: Record<string, string> = {}): Promise<string> => {
    const res = await postForm(
      authorizeUrl({ code_challenge: p.challenge, code_challenge_method: 'S256', ...params }),
      { login: address, password },
    );
    expect(res.status).toBe(302);
    return new URL(res.headers.get('location') ?? '').searchParams.get('code') ?? '';
  };

  const redeem = (c: string, p: Pkce, extra: Record<string, string> = {}) =>
    token({
      grant_type: 'authorization_code',
      client_id: emu.clientId,
      client_secret: emu.clientSecret,
      code: c,
      redirect_uri: emu.redirectUri,
      code_verifier: p.verifier,
      ...extra,
    });

  const refreshToken = async (): Promise<string> => {
    const p = pkce();
    const answer = await redeem(await code(p), p);
    expect(answer.status).toBe(200);
    return answer.body.refresh_token as string;
  };

  const refresh = (rt: string, extra: Record<string, string> = {}) =>
    token({
      grant_type: 'refresh_token',
      client_id: emu.clientId,
      client_secret: emu.clientSecret,
      refresh_token: rt,
      ...extra,
    });

  return { authorizeUrl, postForm, token, code, redeem, refreshToken, refresh };
}

/** status, error, code, and AAD's body shape down to the description's lines */
function expectAadError(answer: TokenAnswer, status: number, error: string, code: number): void {
  const { body } = answer;
  expect({
    status: answer.status,
    error: body.error,
    code: (body.error_codes as number[] | undefined)?.[0],
  }).toEqual({
    status,
    error,
    code,
  });
  const keys = [
    'correlation_id',
    'error',
    'error_codes',
    'error_description',
    'error_uri',
    'timestamp',
    'trace_id',
  ];
  expect(
    Object.keys(body)
      .filter((k) => k !== 'suberror')
      .sort(),
  ).toEqual(keys);
  expect(body.error_codes).toEqual([code]);
  expect(body.timestamp).toMatch(new RegExp(`^${TIMESTAMP}$`));
  expect(body.trace_id).toMatch(new RegExp(`^${GUID}$`));
  expect(body.correlation_id).toMatch(new RegExp(`^${GUID}$`));
  expect(body.error_uri).toBe(`https://login.microsoftonline.com/error?code=${code}`);
  const description = body.error_description as string;
  expect(description).toMatch(
    new RegExp(
      `^AADSTS${code}: [^\\r\\n]+\\r\\nTrace ID: ${GUID}\\r\\nCorrelation ID: ${GUID}\\r\\nTimestamp: ${TIMESTAMP}$`,
    ),
  );
  expect(description).toContain(`\r\nTrace ID: ${String(body.trace_id)}\r\n`);
  expect(description).toContain(`\r\nCorrelation ID: ${String(body.correlation_id)}\r\n`);
  expect(description.endsWith(`Timestamp: ${String(body.timestamp)}`)).toBe(true);
}

describe('outlook emulator: identity errors', () => {
  let emu: RunningEmulator;
  /** lifetimes of one second: codes, refresh token inactivity, device codes */
  let short: RunningEmulator;

  beforeAll(async () => {
    [emu, short] = await Promise.all([
      startEmulator(),
      startEmulator({
        EMULATOR_AUTH_CODE_TTL_SECONDS: '1',
        EMULATOR_REFRESH_TOKEN_INACTIVE_SECONDS: '1',
        EMULATOR_DEVICE_CODE_TTL_SECONDS: '1',
      }),
    ]);
    for (const e of [emu, short]) {
      await e.admin('POST', '/_emulator/mailboxes', { address, displayName: 'Erin Ellis', password });
    }
  }, 60000);

  afterAll(async () => {
    await Promise.all([emu?.stop(), short?.stop()]);
  });

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  describe('/token', () => {
    const cases: {
      name: string;
      status: number;
      error: string;
      code: number;
      answer: () => Promise<TokenAnswer>;
      description?: RegExp;
    }[] = [
      {
        name: 'missing grant_type',
        ...{ status: 400, error: 'invalid_request', code: 900144 },
        description: /'grant_type'/,
        answer: () => against(emu).token({ client_id: emu.clientId, client_secret: emu.clientSecret }),
      },
      {
        name: 'missing code',
        ...{ status: 400, error: 'invalid_request', code: 900144 },
        description: /'code'/,
        answer: () =>
          against(emu).token({
            grant_type: 'authorization_code',
            client_id: emu.clientId,
            client_secret: emu.clientSecret,
          }),
      },
      {
        name: 'unsupported grant type',
        ...{ status: 400, error: 'unsupported_grant_type', code: 70003 },
        answer: () =>
          against(emu).token({
            grant_type: 'password',
            client_id: emu.clientId,
            client_secret: emu.clientSecret,
          }),
      },
      {
        name: 'unknown client',
        ...{ status: 400, error: 'unauthorized_client', code: 700016 },
        description: /Application with identifier 'no-such-app' was not found/,
        answer: () =>
          against(emu).token({ grant_type: 'authorization_code', client_id: 'no-such-app', code: 'x' }),
      },
      {
        name: 'wrong client secret',
        ...{ status: 401, error: 'invalid_client', code: 7000215 },
        answer: () =>
          against(emu).token({
            grant_type: 'authorization_code',
            client_id: emu.clientId,
            client_secret: 'wrong',
            code: 'x',
          }),
      },
      {
        name: 'wrong client secret over HTTP Basic',
        ...{ status: 401, error: 'invalid_client', code: 7000215 },
        answer: () =>
          against(emu).token(
            { grant_type: 'authorization_code', code: 'x' },
            { authorization: `Basic ${Buffer.from(`${emu.clientId}:wrong`).toString('base64')}` },
          ),
      },
      {
        name: 'missing client secret',
        ...{ status: 401, error: 'invalid_client', code: 7000218 },
        answer: () =>
          against(emu).token({ grant_type: 'authorization_code', client_id: emu.clientId, code: 'x' }),
      },
      {
        name: 'redirect URI other than at /authorize',
        ...{ status: 400, error: 'invalid_client', code: 50011 },
        description:
          /The redirect URI 'http:\/\/localhost:3999\/other' specified in the request does not match/,
        answer: async () => {
          const api = against(emu);
          const p = pkce();
          return api.redeem(await api.code(p), p, { redirect_uri: 'http://localhost:3999/other' });
        },
      },
      {
        name: 'reused code',
        ...{ status: 400, error: 'invalid_grant', code: 54005 },
        answer: async () => {
          const api = against(emu);
          const p = pkce();
          const c = await api.code(p);
          expect((await api.redeem(c, p)).status).toBe(200);
          return api.redeem(c, p);
        },
      },
      {
        name: 'expired code',
        ...{ status: 400, error: 'invalid_grant', code: 70008 },
        answer: async () => {
          const api = against(short);
          const p = pkce();
          const c = await api.code(p);
          await sleep(1200);
          return api.token({
            grant_type: 'authorization_code',
            client_id: short.clientId,
            client_secret: short.clientSecret,
            code: c,
            redirect_uri: short.redirectUri,
            code_verifier: p.verifier,
          });
        },
      },
      {
        name: 'PKCE verifier that does not match (S256)',
        ...{ status: 400, error: 'invalid_grant', code: 501481 },
        answer: async () => {
          const api = against(emu);
          const c = await api.code();
          return api.redeem(c, pkce());
        },
      },
      {
        name: 'PKCE verifier that does not match (plain)',
        ...{ status: 400, error: 'invalid_grant', code: 501481 },
        answer: async () => {
          const api = against(emu);
          const verifier = randomBytes(32).toString('base64url');
          const c = await api.code({ verifier, challenge: verifier }, { code_challenge_method: 'plain' });
          return api.redeem(c, { verifier: `${verifier.slice(1)}x`, challenge: '' });
        },
      },
      {
        name: 'malformed code',
        ...{ status: 400, error: 'invalid_grant', code: 9002313 },
        answer: () => against(emu).redeem('not-a-code', pkce()),
      },
      {
        name: 'revoked refresh token',
        ...{ status: 400, error: 'invalid_grant', code: 50173 },
        description:
          /The grant was issued on '\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z' and the TokensValidFrom date/,
        answer: async () => {
          const api = against(emu);
          const rt = await api.refreshToken();
          await emu.admin('POST', '/_emulator/faults', { revokeRefreshTokens: address });
          return api.refresh(rt);
        },
      },
      {
        name: 'refresh token inactive past its lifetime',
        ...{ status: 400, error: 'invalid_grant', code: 700082 },
        description: /The token was issued on \d{4}-\d\d-\d\dT[\d:.]+Z and was inactive for 00:00:01\./,
        answer: async () => {
          const api = against(short);
          const rt = await api.refreshToken();
          await sleep(1200);
          return api.refresh(rt);
        },
      },
      {
        name: 'malformed refresh token',
        ...{ status: 400, error: 'invalid_grant', code: 9002313 },
        answer: () => against(emu).refresh('garbage'),
      },
      {
        name: 'unknown refresh token',
        ...{ status: 400, error: 'invalid_grant', code: 70000 },
        answer: () => against(emu).refresh(`0.A${randomBytes(96).toString('base64url')}`),
      },
      {
        name: 'unknown scope',
        ...{ status: 400, error: 'invalid_scope', code: 70011 },
        description: /The scope 'Calendars.Frobnicate' is not valid/,
        answer: async () => {
          const api = against(emu);
          return api.refresh(await api.refreshToken(), { scope: 'Calendars.Frobnicate offline_access' });
        },
      },
      {
        name: 'refresh asking for more than the grant',
        ...{ status: 400, error: 'invalid_scope', code: 70011 },
        description: /The scope 'Mail.Send' is not valid/,
        answer: async () => {
          const api = against(emu);
          return api.refresh(await api.refreshToken(), {
            scope: 'https://graph.microsoft.com/Mail.Send offline_access',
          });
        },
      },
      {
        name: 'device code not yet approved',
        ...{ status: 400, error: 'authorization_pending', code: 70016 },
        answer: async () => {
          const api = against(emu);
          const start = await api.postForm(`${emu.origin}/common/oauth2/v2.0/devicecode`, {
            client_id: emu.clientId,
            scope: 'Mail.Read',
          });
          const { device_code } = (await start.json()) as { device_code: string };
          return api.token({
            grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
            client_id: emu.clientId,
            device_code,
          });
        },
      },
      {
        name: 'device code declined',
        ...{ status: 400, error: 'authorization_declined', code: 65004 },
        answer: async () => {
          const api = against(emu);
          const start = await api.postForm(`${emu.origin}/common/oauth2/v2.0/devicecode`, {
            client_id: emu.clientId,
            scope: 'Mail.Read',
          });
          const { device_code, user_code } = (await start.json()) as {
            device_code: string;
            user_code: string;
          };
          const page = await api.postForm(`${emu.origin}/devicelogin`, { otc: user_code, cancel: '1' });
          expect(await page.text()).toContain('You declined');
          return api.token({
            grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
            client_id: emu.clientId,
            device_code,
          });
        },
      },
      {
        name: 'device code expired',
        ...{ status: 400, error: 'expired_token', code: 70019 },
        answer: async () => {
          const api = against(short);
          const start = await api.postForm(`${short.origin}/common/oauth2/v2.0/devicecode`, {
            client_id: short.clientId,
            scope: 'Mail.Read',
          });
          const { device_code } = (await start.json()) as { device_code: string };
          await sleep(1200);
          return api.token({
            grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
            client_id: short.clientId,
            device_code,
          });
        },
      },
    ];

    it.each(cases)(
      '$name: $status $error AADSTS$code',
      async ({ status, error, code, answer, description }) => {
        const result = await answer();
        expectAadError(result, status, error, code);
        if (description) expect(result.body.error_description).toMatch(description);
        if (code === 700082) expect(result.body.suberror).toBe('bad_token');
        else expect(result.body.suberror).toBeUndefined();
      },
    );

    it('echoes the client-request-id as the correlation id, as AAD does for MSAL', async () => {
      const correlationId = '11111111-2222-4333-8444-555555555555';
      const answer = await against(emu).token(
        { client_id: emu.clientId },
        { 'client-request-id': correlationId },
      );
      expectAadError(answer, 400, 'invalid_request', 900144);
      expect(answer.body.correlation_id).toBe(correlationId);
    });
  });

  describe('/authorize', () => {
    it.each<{ name: string; params: Record<string, string>; code: number }>([
      { name: 'unknown client', params: { client_id: 'no-such-app' }, code: 700016 },
      {
        name: 'redirect URI not registered',
        params: { redirect_uri: 'https://evil.example/cb' },
        code: 50011,
      },
      { name: 'missing redirect URI', params: { redirect_uri: '' }, code: 900144 },
    ])('$name: an error page, never a redirect (AADSTS$code)', async ({ params, code }) => {
      const res = await fetch(against(emu).authorizeUrl(params), { redirect: 'manual' });
      expect(res.status).toBe(400);
      expect(res.headers.get('location')).toBeNull();
      expect(res.headers.get('content-type')).toMatch(/text\/html/);
      const html = await res.text();
      expect(html).toContain(`AADSTS${code}:`);
      expect(html).not.toContain('<script>alert');
    });

    it.each<{ name: string; params: Record<string, string>; error: string; code: number }>([
      {
        name: 'response_type other than code',
        params: { response_type: 'token' },
        error: 'unsupported_response_type',
        code: 70005,
      },
      {
        name: 'unknown scope',
        params: { scope: 'openid Mail.Frobnicate' },
        error: 'invalid_scope',
        code: 70011,
      },
      { name: 'missing scope', params: { scope: '' }, error: 'invalid_request', code: 900144 },
      {
        name: 'unknown code_challenge_method',
        params: { code_challenge: 'abc', code_challenge_method: 'S512' },
        error: 'invalid_request',
        code: 50149,
      },
      {
        name: 'prompt=none without a session',
        params: { prompt: 'none' },
        error: 'login_required',
        code: 50058,
      },
    ])('$name: redirects with error=$error and the state', async ({ params, error, code }) => {
      const res = await fetch(against(emu).authorizeUrl(params), { redirect: 'manual' });
      expect(res.status).toBe(302);
      const location = new URL(res.headers.get('location') ?? '');
      expect(`${location.origin}${location.pathname}`).toBe(emu.redirectUri);
      expect(location.searchParams.get('error')).toBe(error);
      expect(location.searchParams.get('error_description')).toMatch(
        new RegExp(
          `^AADSTS${code}: .+\\r\\nTrace ID: ${GUID}\\r\\nCorrelation ID: ${GUID}\\r\\nTimestamp: ${TIMESTAMP}$`,
        ),
      );
      expect(location.searchParams.get('state')).toBe('st-1');
      expect(location.searchParams.get('code')).toBeNull();
    });

    it('cancel: access_denied with AADSTS65004 and the state', async () => {
      const api = against(emu);
      const res = await api.postForm(api.authorizeUrl({}), { login: address, cancel: '1' });
      expect(res.status).toBe(302);
      const location = new URL(res.headers.get('location') ?? '');
      expect(location.searchParams.get('error')).toBe('access_denied');
      expect(location.searchParams.get('error_description')).toMatch(/^AADSTS65004: /);
      expect(location.searchParams.get('state')).toBe('st-1');
    });

    it('unknown mailbox or wrong password: the page again with the error, escaped', async () => {
      const api = against(emu);
      const unknown = await api.postForm(api.authorizeUrl({}), {
        login: '<b>nobody</b>@x.example',
        password,
      });
      expect(unknown.status).toBe(200);
      const html = await unknown.text();
      expect(html).toContain('This username may be incorrect');
      expect(html).toContain('value="&lt;b&gt;nobody&lt;/b&gt;@x.example"');
      expect(html).not.toContain('<b>nobody</b>');
      const wrong = await api.postForm(api.authorizeUrl({}), { login: address, password: 'nope' });
      expect(wrong.status).toBe(200);
      expect(await wrong.text()).toContain('Your account or password is incorrect');
    });
  });
});
