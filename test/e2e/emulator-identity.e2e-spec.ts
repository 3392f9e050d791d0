import { createPublicKey, createVerify, type JsonWebKey } from 'node:crypto';
import {
  ConfidentialClientApplication,
  CryptoProvider,
  PublicClientApplication,
  type AccountInfo,
  type AuthenticationResult,
} from '@azure/msal-node';
import { startEmulator, type RunningEmulator } from '@email-core/testing';

/**
 * The emulator's identity platform driven by Microsoft's own @azure/msal-node, pointed at it only through
 * `authority` and `knownAuthorities`: authorization code with PKCE through the real sign-in page, silent refresh
 * with a rotating refresh token, revocation, and the device code flow.
 */

interface TokenCacheJson {
  RefreshToken: Record<string, { secret: string }>;
}

function decodeJwt(token: string): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const [h, p] = token.split('.');
  const part = (s: string | undefined) =>
    JSON.parse(Buffer.from(s ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
  return { header: part(h), claims: part(p) };
}

function refreshTokensIn(msal: ConfidentialClientApplication): string[] {
  const cache = JSON.parse(msal.getTokenCache().serialize()) as TokenCacheJson;
  return Object.values(cache.RefreshToken).map((rt) => rt.secret);
}

describe('outlook emulator: sign-in and tokens through @azure/msal-node', () => {
  let emu: RunningEmulator;
  const address = 'dana@northwind.example';
  const password = 'correct horse battery staple';
  const scopes = ['Mail.ReadWrite', 'User.Read'];

  const authority = () => `${emu.origin}/common`;
  // MSAL compares knownAuthorities with the authority's host *and port* (UrlString.getDomainFromUrl)
  const knownAuthorities = () => [`localhost:${emu.port}`];

  const confidentialClient = () =>
    new ConfidentialClientApplication({
      auth: {
        clientId: emu.clientId,
        clientSecret: emu.clientSecret,
        authority: authority(),
        knownAuthorities: knownAuthorities(),
      },
    });

  /** the sign-in page as a browser would use it: load it, fill the form, post it back to the same URL */
  const submitSignIn = async (url: string, form: Record<string, string>): Promise<Response> => {
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const html = await page.text();
    expect(html).toContain('name="login"');
    expect(html).toContain('name="password"');
    return fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form),
      redirect: 'manual',
    });
  };

  const callMe = (accessToken: string) =>
    fetch(`${emu.origin}/v1.0/me`, { headers: { authorization: `Bearer ${accessToken}` } });

  beforeAll(async () => {
    emu = await startEmulator();
    await emu.admin('POST', '/_emulator/mailboxes', { address, displayName: 'Dana Diaz', password });
  }, 60000);

  afterAll(async () => {
    await emu?.stop();
  });

  describe('authorization code with PKCE, then silent refresh', () => {
    const msalCrypto = new CryptoProvider();
    let msal: ConfidentialClientApplication;
    let first: AuthenticationResult;
    let account: AccountInfo;

    beforeAll(async () => {
      msal = confidentialClient();
      const { verifier, challenge } = await msalCrypto.generatePkceCodes();
      const state = msalCrypto.createNewGuid();
      const nonce = msalCrypto.createNewGuid();
      const url = await msal.getAuthCodeUrl({
        scopes,
        redirectUri: emu.redirectUri,
        codeChallenge: challenge,
        codeChallengeMethod: 'S256',
        state,
        nonce,
        loginHint: address,
      });
      expect(url.startsWith(`${emu.origin}/common/oauth2/v2.0/authorize?`)).toBe(true);

      // the page offers the mailbox and pre-fills login_hint
      const html = await (await fetch(url)).text();
      expect(html).toContain(address);
      expect(html).toContain(`value="${address}"`);

      // a wrong password shows the page again with the error, no redirect
      const wrong = await submitSignIn(url, { login: address, password: 'nope' });
      expect(wrong.status).toBe(200);
      expect(await wrong.text()).toContain('Your account or password is incorrect');

      const res = await submitSignIn(url, { login: address, password });
      expect(res.status).toBe(302);
      const location = new URL(res.headers.get('location') ?? '');
      expect(`${location.origin}${location.pathname}`).toBe(emu.redirectUri);
      expect(location.searchParams.get('state')).toBe(state);
      expect(location.searchParams.get('session_state')).toMatch(/^[0-9a-f-]{36}$/);
      const code = location.searchParams.get('code') ?? '';
      expect(code).not.toBe('');

      first = await msal.acquireTokenByCode(
        { code, scopes, redirectUri: emu.redirectUri, codeVerifier: verifier, state, nonce },
        { code, state },
      );
      expect(first.account).not.toBeNull();
      account = first.account as AccountInfo;
    }, 30000);

    it('signs the user in: account, id token claims and granted scopes', async () => {
      const mailbox = await emu.admin<{ userId: string; tenantId: string }>(
        'GET',
        `/_emulator/mailboxes/${address}`,
      );
      expect(account.username).toBe(address);
      expect(account.name).toBe('Dana Diaz');
      // homeAccountId comes from client_info (uid.utid), not the id token's sub
      expect(account.homeAccountId).toBe(`${account.localAccountId}.${account.tenantId}`);
      expect(account.environment).toBe(`localhost:${emu.port}`);
      expect(first.idTokenClaims).toMatchObject({
        aud: emu.clientId,
        iss: `${emu.origin}/${account.tenantId}/v2.0`,
        preferred_username: address,
        name: 'Dana Diaz',
        oid: account.localAccountId,
        tid: account.tenantId,
        ver: '2.0',
      });
      expect(account.localAccountId).toBe(mailbox.userId);
      expect(account.tenantId).toBe(mailbox.tenantId);
      expect(first.scopes).toEqual(expect.arrayContaining(['Mail.ReadWrite', 'User.Read']));
      expect(first.tokenType).toBe('Bearer');
      const expiresInMs = (first.expiresOn?.getTime() ?? 0) - Date.now();
      expect(expiresInMs).toBeGreaterThan(3500 * 1000);
      expect(expiresInMs).toBeLessThanOrEqual(3600 * 1000);
    });

    it('issues a Graph access token that Graph accepts', async () => {
      const { header, claims } = decodeJwt(first.accessToken);
      expect(header).toMatchObject({ alg: 'RS256', typ: 'JWT' });
      expect(claims).toMatchObject({
        aud: 'https://graph.microsoft.com',
        iss: `https://sts.windows.net/${account.tenantId}/`,
        appid: emu.clientId,
        scp: 'Mail.ReadWrite User.Read',
        upn: address,
        oid: account.localAccountId,
        tid: account.tenantId,
        ver: '1.0',
      });
      const me = await callMe(first.accessToken);
      expect(me.status).toBe(200);
      expect(await me.json()).toMatchObject({ userPrincipalName: address, id: account.localAccountId });
    });

    it('signs the id token with a key from the JWKS the discovery document names', async () => {
      const config = (await (
        await fetch(`${authority()}/v2.0/.well-known/openid-configuration`)
      ).json()) as Record<string, string>;
      expect(config.issuer).toBe(`${emu.origin}/{tenantid}/v2.0`);
      const jwks = (await (await fetch(config.jwks_uri ?? '')).json()) as {
        keys: (JsonWebKey & { kid: string })[];
      };
      const idToken = first.idToken;
      const [h, p, s] = idToken.split('.');
      const { header } = decodeJwt(idToken);
      const jwk = jwks.keys.find((k) => k.kid === header.kid);
      expect(jwk).toBeDefined();
      const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
      const valid = createVerify('RSA-SHA256')
        .update(`${h}.${p}`)
        .verify(key, Buffer.from(s ?? '', 'base64url'));
      expect(valid).toBe(true);
    });

    it('refreshes silently: a new access token and a new refresh token, the old one still valid', async () => {
      const [oldRefreshToken] = refreshTokensIn(msal);
      expect(oldRefreshToken).toBeDefined();
      const refreshed = await msal.acquireTokenSilent({ account, scopes, forceRefresh: true });
      expect(refreshed.accessToken).not.toBe(first.accessToken);
      expect(refreshed.account?.homeAccountId).toBe(account.homeAccountId);
      expect((await callMe(refreshed.accessToken)).status).toBe(200);
      const [newRefreshToken] = refreshTokensIn(msal);
      expect(newRefreshToken).not.toBe(oldRefreshToken);

      // Microsoft documents that the replaced refresh token is not revoked
      const res = await fetch(`${authority()}/oauth2/v2.0/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          client_id: emu.clientId,
          client_secret: emu.clientSecret,
          refresh_token: oldRefreshToken ?? '',
          scope: 'User.Read offline_access',
        }),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toMatch(/no-store/);
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).toMatchObject({
        token_type: 'Bearer',
        scope: 'User.Read offline_access',
        expires_in: 3599,
      });
      expect(body.id_token).toBeUndefined();
      expect(typeof body.refresh_token).toBe('string');
      expect(decodeJwt(body.access_token as string).claims.scp).toBe('User.Read');
    });

    it('fails silent refresh with invalid_grant once the refresh tokens are revoked', async () => {
      const revoked = await emu.admin<{ actions: { revokedRefreshTokens: number } }>(
        'POST',
        '/_emulator/faults',
        {
          revokeRefreshTokens: address,
        },
      );
      expect(revoked.actions.revokedRefreshTokens).toBeGreaterThanOrEqual(2);
      const attempt = msal.acquireTokenSilent({ account, scopes, forceRefresh: true });
      await expect(attempt).rejects.toMatchObject({ errorCode: 'invalid_grant' });
      await expect(attempt).rejects.toThrow(/AADSTS50173/);
    });
  });

  it('answers form_post with a page that posts the code to the redirect URI', async () => {
    const url = new URL(`${authority()}/oauth2/v2.0/authorize`);
    url.search = new URLSearchParams({
      client_id: emu.clientId,
      response_type: 'code',
      redirect_uri: emu.redirectUri,
      scope: 'openid Mail.Read',
      response_mode: 'form_post',
      state: 'xyz',
    }).toString();
    const res = await submitSignIn(url.toString(), { login: address, password });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain(`action="${emu.redirectUri}"`);
    expect(html).toMatch(/name="code" value="[^"]+"/);
    expect(html).toContain('name="state" value="xyz"');
    expect(html).toContain('document.forms[0].submit()');
  });

  it('runs the device code flow with a public client app registered through the admin API', async () => {
    const registered = await emu.admin<Record<string, unknown>>('POST', '/_emulator/apps', {
      clientId: 'email-core-cli',
      redirectUris: ['http://localhost'],
    });
    expect(registered).toEqual({
      clientId: 'email-core-cli',
      redirectUris: ['http://localhost'],
      confidential: false,
      demo: false,
    });
    const pca = new PublicClientApplication({
      auth: { clientId: 'email-core-cli', authority: authority(), knownAuthorities: knownAuthorities() },
    });
    let approval: Promise<string> | undefined;
    const result = await pca.acquireTokenByDeviceCode({
      scopes: ['Mail.Read'],
      deviceCodeCallback: (response) => {
        expect(response.verificationUri).toBe(`${emu.origin}/devicelogin`);
        expect(response.message).toContain(response.userCode);
        approval = fetch(`${emu.origin}/devicelogin`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ otc: response.userCode, login: address, password }),
        }).then((r) => r.text());
      },
    });
    expect(await approval).toContain('You have signed in to the email-core-cli application');
    expect(result?.account?.username).toBe(address);
    expect(decodeJwt(result?.accessToken ?? '').claims).toMatchObject({
      appid: 'email-core-cli',
      scp: 'Mail.Read',
    });
  }, 30000);

  it('lists registered apps without secrets and refuses a bad registration', async () => {
    await emu.admin('POST', '/_emulator/apps', {
      clientId: 'second-app',
      clientSecret: 'second-secret',
      redirectUris: ['https://app.example/callback'],
    });
    const { apps } = await emu.admin<{ apps: Record<string, unknown>[] }>('GET', '/_emulator/apps');
    expect(apps).toEqual(
      expect.arrayContaining([
        { clientId: emu.clientId, redirectUris: [emu.redirectUri], confidential: true, demo: true },
        {
          clientId: 'second-app',
          redirectUris: ['https://app.example/callback'],
          confidential: true,
          demo: false,
        },
      ]),
    );
    expect(JSON.stringify(apps)).not.toContain('secret');
    const bad = await fetch(`${emu.origin}/_emulator/apps`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ clientId: 'x', redirectUris: ['not a uri'] }),
    });
    expect(bad.status).toBe(400);
    const problem = (await bad.json()) as { error: string; message: string };
    expect(problem.error).toBe('invalid_request');
    expect(problem.message).toMatch(/^redirectUris\.0: must be an absolute URI/);
  });

  it('serves MSAL instance discovery naming the emulator host as the alias', async () => {
    const authorizeEndpoint = `${authority()}/oauth2/v2.0/authorize`;
    const res = await fetch(
      `${emu.origin}/common/discovery/instance?api-version=1.1&authorization_endpoint=${encodeURIComponent(authorizeEndpoint)}`,
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as { metadata: { aliases: string[] }[] };
    expect(body).toMatchObject({
      tenant_discovery_endpoint: `${emu.origin}/common/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: `localhost:${emu.port}`, preferred_cache: `localhost:${emu.port}` }],
    });
    expect(body.metadata[0]?.aliases).toEqual(expect.arrayContaining([`localhost:${emu.port}`, 'localhost']));
  });

  it('signs out to post_logout_redirect_uri', async () => {
    const res = await fetch(
      `${authority()}/oauth2/v2.0/logout?post_logout_redirect_uri=${encodeURIComponent('http://localhost:3999/bye')}&state=s1`,
      { redirect: 'manual' },
    );
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('http://localhost:3999/bye?state=s1');
  });
});
