import { createHmac, KeyObject } from 'node:crypto';
import { JwtService } from '@nestjs/jwt';
import { jwtModuleOptions } from './jwt-options';

// jsonwebtoken takes its key parsers from `require('crypto')` when it loads: count what it calls
const parsed = { public: 0, private: 0 };
jest.mock('crypto', () => {
  const actual = jest.requireActual<typeof import('crypto')>('crypto');
  return {
    ...actual,
    createPublicKey: (...args: Parameters<typeof actual.createPublicKey>) => {
      parsed.public++;
      return actual.createPublicKey(...args);
    },
    createPrivateKey: (...args: Parameters<typeof actual.createPrivateKey>) => {
      parsed.private++;
      return actual.createPrivateKey(...args);
    },
  };
});

const secret = 'a'.repeat(32) + '-unit-test-secret';

describe('the access tokens’ JWT options', () => {
  it('hand jsonwebtoken the HS256 key as a secret KeyObject of the configured bytes', () => {
    const key = jwtModuleOptions({ jwtSecret: secret }).secret;
    expect(key).toBeInstanceOf(KeyObject);
    expect((key as KeyObject).type).toBe('secret');
    expect((key as KeyObject).export().toString('utf8')).toBe(secret);
  });

  it('sign and verify without ever parsing the key as a PEM key (the per-request cost the profile found)', async () => {
    const jwt = new JwtService(jwtModuleOptions({ jwtSecret: secret }));
    parsed.public = parsed.private = 0;
    const token = await jwt.signAsync({ sub: 'user-1' });
    await expect(jwt.verifyAsync(token)).resolves.toMatchObject({ sub: 'user-1', iss: 'email-core' });
    expect(parsed).toEqual({ public: 0, private: 0 });
  });

  it('make tokens any HS256 implementation with the same secret accepts, and refuse another key or algorithm', async () => {
    const jwt = new JwtService(jwtModuleOptions({ jwtSecret: secret }));
    const token = await jwt.signAsync({ sub: 'user-2' });
    const [header, payload, signature] = token.split('.');
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url')).toBe(signature);

    const other = new JwtService(jwtModuleOptions({ jwtSecret: `${secret}-other` }));
    await expect(other.verifyAsync(token)).rejects.toThrow('invalid signature');
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;
    await expect(jwt.verifyAsync(unsigned)).rejects.toThrow();
  });
});
