import { JwtService } from '@nestjs/jwt';
import { JwtAuthGuard } from '../auth/jwt-auth.guard';
import { handshakeToken, SocketAuthenticator, type HandshakeCredentials } from './socket-auth';

const secret = 'a-test-secret-that-is-long-enough-for-hs256';
const jwtOptions = {
  secret,
  signOptions: { algorithm: 'HS256' as const, expiresIn: 900, issuer: 'email-core' },
  verifyOptions: { algorithms: ['HS256' as const], issuer: 'email-core' },
};
const claims = { sub: '6f1c1a52-0f7e-4f39-9d55-3c1cbb2b8a10', email: 'ada@example.com', typ: 'access' };

const handshake = (
  auth: Record<string, unknown>,
  headers: Record<string, string> = {},
): HandshakeCredentials => ({
  auth,
  headers,
});

function setup() {
  const jwt = new JwtService(jwtOptions);
  return { jwt, auth: new SocketAuthenticator(new JwtAuthGuard(jwt), jwt) };
}

describe('handshakeToken', () => {
  it('takes auth.token, with or without a Bearer prefix', () => {
    expect(handshakeToken(handshake({ token: 'abc' }))).toBe('abc');
    expect(handshakeToken(handshake({ token: 'Bearer abc' }))).toBe('abc');
  });

  it('falls back to an Authorization: Bearer header', () => {
    expect(handshakeToken(handshake({}, { authorization: 'Bearer xyz' }))).toBe('xyz');
    expect(handshakeToken(handshake({ token: '' }, { authorization: 'bearer xyz' }))).toBe('xyz');
  });

  it('finds nothing in other schemes, non-strings or empty values', () => {
    expect(handshakeToken(handshake({}, { authorization: 'Basic dXNlcjpwYXNz' }))).toBeUndefined();
    expect(handshakeToken(handshake({ token: 42 }))).toBeUndefined();
    expect(handshakeToken(handshake({ token: '   ' }))).toBeUndefined();
    expect(handshakeToken(handshake({}))).toBeUndefined();
  });
});

describe('SocketAuthenticator (the REST guard, applied to a handshake)', () => {
  it('admits a valid access token and reports when it expires', async () => {
    const { jwt, auth } = setup();
    const token = jwt.sign(claims);
    const identity = await auth.authenticate(handshake({ token }));
    expect(identity.user).toEqual({ id: claims.sub, email: claims.email });
    expect(identity.expiresAt).toBeGreaterThan(Date.now() + 800_000);
    expect(identity.expiresAt).toBeLessThanOrEqual(Date.now() + 900_000);
  });

  it('admits the token from an Authorization header too', async () => {
    const { jwt, auth } = setup();
    const identity = await auth.authenticate(handshake({}, { authorization: `Bearer ${jwt.sign(claims)}` }));
    expect(identity.user.id).toBe(claims.sub);
  });

  it.each([
    ['no token', () => handshake({})],
    ['garbage', () => handshake({ token: 'not-a-jwt' })],
    [
      'another secret',
      () => handshake({ token: new JwtService({ ...jwtOptions, secret: `${secret}-other` }).sign(claims) }),
    ],
    ['an expired token', () => handshake({ token: setup().jwt.sign(claims, { expiresIn: -10 }) })],
    ['a refresh-type token', () => handshake({ token: setup().jwt.sign({ ...claims, typ: 'refresh' }) })],
    ['another issuer', () => handshake({ token: setup().jwt.sign(claims, { issuer: 'someone-else' }) })],
  ])('refuses %s with UNAUTHENTICATED', async (_name, make) => {
    const { auth } = setup();
    await expect(auth.authenticate(make())).rejects.toMatchObject({
      data: { code: 'UNAUTHENTICATED', message: expect.any(String) as string },
    });
  });
});
