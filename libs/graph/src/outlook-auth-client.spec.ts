import { ClientAuthError, InteractionRequiredAuthError, ServerError } from '@azure/msal-node';
import { OutlookAuthClient, mapMsalError, refreshTokenFromCache } from './outlook-auth-client';
import { OutlookAuthError, ReauthRequiredError } from './types';

const serverError = (code: string, aad: string) =>
  new ServerError(
    code,
    'corr-1',
    `Error(s): ${aad} - Description: AADSTS${aad}: The provided grant has been revoked. - Correlation ID: corr-1`,
    undefined,
    aad,
    400,
  );

describe('MSAL error mapping', () => {
  it.each([
    ['50173', 'refresh token revoked'],
    ['700082', 'refresh token expired (inactive)'],
    ['70008', 'refresh token expired'],
    ['70000', 'refresh token invalid'],
  ])('invalid_grant AADSTS%s during a refresh → ReauthRequiredError (%s)', (aad, what) => {
    const err = mapMsalError(serverError('invalid_grant', aad), 'refresh');
    expect(err).toBeInstanceOf(ReauthRequiredError);
    expect(err).toMatchObject({ aadCode: aad, reason: `${what} (invalid_grant, AADSTS${aad})` });
    // the server's description and correlation ids stay out of the message
    expect(err.message).not.toMatch(/Description|corr-1/);
  });

  it('the interaction-required family during a refresh → ReauthRequiredError', () => {
    const withNo = new InteractionRequiredAuthError(
      'invalid_grant',
      'c',
      'x',
      undefined,
      '',
      '',
      '',
      '700082',
    );
    expect(mapMsalError(withNo, 'refresh')).toMatchObject({ aadCode: '700082' });
    const mfa = new InteractionRequiredAuthError('interaction_required', 'corr-2', 'AADSTS50076: MFA');
    const err = mapMsalError(mfa, 'refresh');
    expect(err).toBeInstanceOf(ReauthRequiredError);
    expect(err).toMatchObject({ aadCode: '50076' });
  });

  it('a bad client secret is a configuration problem, not a reason to re-link', () => {
    const err = mapMsalError(serverError('invalid_client', '7000215'), 'refresh');
    expect(err).toBeInstanceOf(OutlookAuthError);
    expect(err).toMatchObject({ code: 'invalid_client', aadCode: '7000215' });
  });

  it('a reused code at redemption is an OutlookAuthError naming invalid_grant', () => {
    const err = mapMsalError(serverError('invalid_grant', '54005'), 'redeem');
    expect(err).toBeInstanceOf(OutlookAuthError);
    expect(err.message).toBe('Microsoft identity platform refused the request: invalid_grant (AADSTS54005)');
  });

  it('client-side and unknown failures keep only their code', () => {
    expect(mapMsalError(new ClientAuthError('network_error', 'secret stuff'), 'refresh')).toMatchObject({
      code: 'network_error',
    });
    const odd = mapMsalError(new TypeError('token=abc'), 'refresh');
    expect(odd).toBeInstanceOf(OutlookAuthError);
    expect(odd.message).not.toContain('abc');
  });
});

describe('refresh token from the MSAL cache', () => {
  const cache = JSON.stringify({
    Account: {},
    IdToken: {},
    AccessToken: {},
    AppMetadata: {},
    RefreshToken: {
      a: { home_account_id: 'uid-1.tid', secret: 'rt-1', credential_type: 'RefreshToken' },
      b: { home_account_id: 'uid-2.tid', secret: 'rt-2', credential_type: 'RefreshToken' },
    },
  });

  it("picks the signed-in account's refresh token", () => {
    expect(refreshTokenFromCache(cache, 'uid-2.tid')).toBe('rt-2');
    expect(refreshTokenFromCache(cache)).toBe('rt-1');
  });

  it('answers undefined for a cache without one', () => {
    expect(refreshTokenFromCache(JSON.stringify({ RefreshToken: {} }))).toBeUndefined();
  });
});

describe('OutlookAuthClient', () => {
  const config = {
    clientId: 'app',
    clientSecret: 'secret-123456',
    authority: 'https://login.test:8443/common',
    graphBaseUrl: 'https://graph.test:8443',
    scopes: ['offline_access', 'User.Read', 'Mail.ReadWrite'],
  };

  it('builds a PKCE (S256) authorization URL with the configured scopes plus openid profile', async () => {
    const metadata = {
      authorization_endpoint: 'https://login.test:8443/common/oauth2/v2.0/authorize',
      token_endpoint: 'https://login.test:8443/common/oauth2/v2.0/token',
      end_session_endpoint: 'https://login.test:8443/common/oauth2/v2.0/logout',
      issuer: 'https://login.test:8443/{tenantid}/v2.0',
      jwks_uri: 'https://login.test:8443/common/discovery/v2.0/keys',
    };
    let metadataFetches = 0;
    const auth = new OutlookAuthClient(config, {
      fetch: () => {
        metadataFetches++;
        return Promise.resolve(new Response(JSON.stringify(metadata), { status: 200 }));
      },
    });
    const a = await auth.authorizationUrl({
      state: 's-1',
      redirectUri: 'http://localhost/cb',
      loginHint: 'x@y.z',
    });
    const b = await auth.authorizationUrl({ state: 's-2', redirectUri: 'http://localhost/cb' });
    const url = new URL(a.url);
    expect(`${url.origin}${url.pathname}`).toBe(metadata.authorization_endpoint);
    expect(url.searchParams.get('client_id')).toBe('app');
    expect(url.searchParams.get('state')).toBe('s-1');
    expect(url.searchParams.get('login_hint')).toBe('x@y.z');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('scope')?.split(' ')).toEqual(
      expect.arrayContaining(['openid', 'profile', 'offline_access', 'User.Read', 'Mail.ReadWrite']),
    );
    expect(a.codeVerifier).toMatch(/^[A-Za-z0-9_-]{43,128}$/);
    expect(b.codeVerifier).not.toBe(a.codeVerifier);
    // the metadata is fetched once and reused; no instance discovery anywhere
    expect(metadataFetches).toBe(1);
  });
});
