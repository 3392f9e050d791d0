import { AuthorizationCodeService } from './authorization-code.service';
import type { Grant } from './grant';
import { IdentityError } from './identity-errors';
import { IdentitySettings } from './identity-settings';
import { codeChallengeFor } from './pkce';

const grant: Grant = {
  clientId: 'app-1',
  address: 'a@x.example',
  userId: 'u-1',
  tenantId: 't-1',
  scopes: ['Mail.Read'],
  oidc: ['openid'],
  authTime: 0,
  publicClient: false,
};
const verifier = 'k'.repeat(43);
const redirectUri = 'https://app.example/cb';

const code = (fn: () => unknown): number => {
  try {
    fn();
  } catch (err) {
    if (err instanceof IdentityError) return err.entry.code;
    throw err;
  }
  return 0;
};

describe('AuthorizationCodeService', () => {
  const t0 = Date.UTC(2026, 0, 1);
  let codes: AuthorizationCodeService;
  const issue = () =>
    codes.issue(
      grant,
      {
        redirectUri,
        codeChallenge: codeChallengeFor(verifier, 'S256'),
        codeChallengeMethod: 'S256',
        nonce: 'n1',
      },
      t0,
    );

  beforeEach(() => {
    codes = new AuthorizationCodeService(new IdentitySettings());
  });

  it('redeems once, bound to its grant and nonce; a second redemption is AADSTS54005', () => {
    const c = issue();
    const { grant: g, binding } = codes.redeem(
      c,
      { clientId: 'app-1', redirectUri, codeVerifier: verifier },
      t0 + 1,
    );
    expect(g).toBe(grant);
    expect(binding.nonce).toBe('n1');
    expect(
      code(() => codes.redeem(c, { clientId: 'app-1', redirectUri, codeVerifier: verifier }, t0 + 2)),
    ).toBe(54005);
  });

  it('expires after 10 minutes (AADSTS70008)', () => {
    const c = issue();
    expect(
      code(() => codes.redeem(c, { clientId: 'app-1', redirectUri, codeVerifier: verifier }, t0 + 600_000)),
    ).toBe(70008);
  });

  it('checks client, redirect URI and PKCE verifier', () => {
    expect(
      code(() => codes.redeem(issue(), { clientId: 'app-2', redirectUri, codeVerifier: verifier }, t0)),
    ).toBe(70000);
    expect(code(() => codes.redeem(issue(), { clientId: 'app-1', codeVerifier: verifier }, t0))).toBe(700009);
    expect(
      code(() =>
        codes.redeem(
          issue(),
          { clientId: 'app-1', redirectUri: `${redirectUri}/`, codeVerifier: verifier },
          t0,
        ),
      ),
    ).toBe(50011);
    expect(code(() => codes.redeem(issue(), { clientId: 'app-1', redirectUri }, t0))).toBe(900144);
    expect(
      code(() => codes.redeem(issue(), { clientId: 'app-1', redirectUri, codeVerifier: 'j'.repeat(43) }, t0)),
    ).toBe(501481);
  });

  it('spends a code on a failed redemption too', () => {
    const c = issue();
    expect(
      code(() => codes.redeem(c, { clientId: 'app-1', redirectUri, codeVerifier: 'j'.repeat(43) }, t0)),
    ).toBe(501481);
    expect(code(() => codes.redeem(c, { clientId: 'app-1', redirectUri, codeVerifier: verifier }, t0))).toBe(
      54005,
    );
  });

  it('tells a malformed code from an unknown one', () => {
    expect(code(() => codes.redeem('abc', { clientId: 'app-1', redirectUri }, t0))).toBe(9002313);
    expect(code(() => codes.redeem(`1.A${'z'.repeat(80)}`, { clientId: 'app-1', redirectUri }, t0))).toBe(
      70000,
    );
  });
});
