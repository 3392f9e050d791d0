import { FaultsService } from '../faults/faults.service';
import { MailboxStore } from '../store/mailbox-store';
import { AccessTokenInvalid } from './access-claims';
import type { Grant } from './grant';
import { parseJwt, signJwt, verifyRs256 } from './jwt';
import { SigningKeyService } from './signing-key.service';
import { TokenService } from './token.service';

describe('TokenService: RS256 access tokens and their verification', () => {
  const keys = new SigningKeyService();
  const store = new MailboxStore();
  const faults = new FaultsService(false);
  const tokens = new TokenService(keys, store, faults);
  const mailbox = store.createMailbox({ address: 'Fay@Contoso.example', displayName: 'Fay Fox' });
  const grant: Grant = {
    clientId: 'app-1',
    address: mailbox.address,
    userId: mailbox.userId,
    tenantId: mailbox.tenantId,
    scopes: ['Mail.Read', 'User.Read'],
    oidc: ['openid', 'offline_access'],
    authTime: Date.now(),
    publicClient: false,
  };
  const now = Date.UTC(2026, 0, 1, 12, 0, 0);

  const tamper = (token: string, claims: Record<string, unknown>): string => {
    const [h, p, s] = token.split('.') as [string, string, string];
    const payload = { ...(JSON.parse(Buffer.from(p, 'base64url').toString()) as object), ...claims };
    return `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
  };

  const invalid = (token: string | undefined, at = now) => {
    try {
      tokens.verify(token, at);
    } catch (err) {
      expect(err).toBeInstanceOf(AccessTokenInvalid);
      return (err as Error).message;
    }
    throw new Error('token was accepted');
  };

  it('issues a Graph v1 token with the claims Graph reads, signed with the published key', () => {
    const { token, expiresIn } = tokens.issueAccessToken(grant, now);
    expect(expiresIn).toBe(3599);
    const jwt = parseJwt(token);
    expect(jwt.header).toEqual({ typ: 'JWT', alg: 'RS256', kid: keys.kid, x5t: keys.kid });
    expect(verifyRs256(jwt, keys.publicKey)).toBe(true);
    const iat = now / 1000;
    expect(jwt.claims).toMatchObject({
      aud: 'https://graph.microsoft.com',
      iss: `https://sts.windows.net/${mailbox.tenantId}/`,
      iat,
      nbf: iat,
      exp: iat + 3599,
      appid: 'app-1',
      scp: 'Mail.Read User.Read',
      oid: mailbox.userId,
      tid: mailbox.tenantId,
      upn: 'fay@contoso.example',
      preferred_username: 'fay@contoso.example',
      name: 'Fay Fox',
      ver: '1.0',
    });
  });

  it('verifies a good token into AccessClaims', () => {
    const { token } = tokens.issueAccessToken(grant, now);
    expect(tokens.verify(token, now + 1000)).toEqual({
      address: 'fay@contoso.example',
      userId: mailbox.userId,
      tenantId: mailbox.tenantId,
      appId: 'app-1',
      scopes: ['Mail.Read', 'User.Read'],
      expiresAt: now / 1000 + 3599,
    });
  });

  it('follows the faults setting for the lifetime', () => {
    faults.update({ accessTokenLifetimeSeconds: 60 });
    try {
      const { token, expiresIn } = tokens.issueAccessToken(grant, now);
      expect(expiresIn).toBe(60);
      expect(tokens.verify(token, now + 59_000).expiresAt).toBe(now / 1000 + 60);
      expect(invalid(token, now + 60_000)).toBe('Access token has expired or is not yet valid.');
    } finally {
      faults.reset();
    }
  });

  it('refuses an empty or missing token', () => {
    expect(invalid(undefined)).toBe('Access token is empty.');
    expect(invalid('  ')).toBe('Access token is empty.');
  });

  it('refuses what is not a compact JWT with Graph parsing error', () => {
    for (const bad of [
      'abc',
      'a.b',
      'a.b.c.d',
      '!!!.e30.',
      `${Buffer.from('[1]').toString('base64url')}.e30.x`,
    ]) {
      expect(invalid(bad)).toBe('CompactToken parsing failed with error code: 80049217');
    }
  });

  it('refuses a token whose claims were changed after signing', () => {
    const { token } = tokens.issueAccessToken(grant, now);
    expect(invalid(tamper(token, { scp: 'Mail.ReadWrite' }), now)).toBe('Access token validation failure.');
  });

  it('refuses a token whose signature was altered', () => {
    const { token } = tokens.issueAccessToken(grant, now);
    const [h, p, s] = token.split('.') as [string, string, string];
    const sig = Buffer.from(s, 'base64url');
    sig[10] = (sig[10] ?? 0) ^ 0xff;
    expect(invalid(`${h}.${p}.${sig.toString('base64url')}`, now)).toBe('Access token validation failure.');
    expect(invalid(`${h}.${p}.`, now)).toBe('Access token validation failure.');
  });

  it('refuses a token signed by another key, or unsigned', () => {
    const other = new SigningKeyService();
    const forged = signJwt(
      { kid: keys.kid },
      parseJwt(tokens.issueAccessToken(grant, now).token).claims,
      other.privateKey,
    );
    expect(invalid(forged, now)).toBe('Access token validation failure.');
    const none = `${Buffer.from('{"alg":"none","kid":"x"}').toString('base64url')}.${Buffer.from('{}').toString('base64url')}.`;
    expect(invalid(none, now)).toBe('Access token validation failure.');
  });

  it('refuses a well-signed token for another audience', () => {
    const claims = {
      ...parseJwt(tokens.issueAccessToken(grant, now).token).claims,
      aud: 'api://someone-else',
    };
    expect(invalid(keys.sign(claims), now)).toBe('Access token validation failure. Invalid audience.');
  });

  it('refuses an expired or not yet valid token', () => {
    const { token } = tokens.issueAccessToken(grant, now);
    expect(invalid(token, now + 3599_000)).toBe('Access token has expired or is not yet valid.');
    expect(invalid(token, now - 1000)).toBe('Access token has expired or is not yet valid.');
  });

  it('refuses a token for a mailbox that no longer exists', () => {
    const gone = new MailboxStore();
    const verifier = new TokenService(keys, gone, faults);
    const { token } = tokens.issueAccessToken(grant, now);
    expect(() => verifier.verify(token, now)).toThrow(
      new AccessTokenInvalid('Access token validation failure.'),
    );
  });

  it('issues id tokens for the client, with the nonce, verifiable with the JWK', () => {
    const idToken = tokens.issueIdToken(grant, 'https://localhost:8443', 'n-0S6_WzA2Mj', now);
    const jwt = parseJwt(idToken);
    expect(verifyRs256(jwt, keys.publicKey)).toBe(true);
    expect(jwt.claims).toMatchObject({
      aud: 'app-1',
      iss: `https://localhost:8443/${mailbox.tenantId}/v2.0`,
      nonce: 'n-0S6_WzA2Mj',
      oid: mailbox.userId,
      tid: mailbox.tenantId,
      preferred_username: 'fay@contoso.example',
      email: 'fay@contoso.example',
      name: 'Fay Fox',
      ver: '2.0',
    });
    expect(typeof jwt.claims.sub).toBe('string');
    expect(
      parseJwt(tokens.issueIdToken(grant, 'https://localhost:8443', undefined, now)).claims,
    ).not.toHaveProperty('nonce');
    const jwk = keys.jwk('https://issuer.example');
    expect(jwk).toMatchObject({
      kty: 'RSA',
      use: 'sig',
      kid: keys.kid,
      e: 'AQAB',
      issuer: 'https://issuer.example',
    });
    expect(jwk.x5c).toHaveLength(1);
  });
});
