import { ARGON2_PARAMS, PasswordHasher } from './password-hasher';

describe('PasswordHasher (argon2id)', () => {
  const hasher = new PasswordHasher();

  it('hashes with argon2id at the configured cost, salted', async () => {
    const a = await hasher.hash('correct horse battery staple');
    const b = await hasher.hash('correct horse battery staple');
    expect(a).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
    expect(a).not.toBe(b);
    expect(hasher.needsRehash(a)).toBe(false);
  });

  it('verifies the right password and refuses a wrong one', async () => {
    const hash = await hasher.hash('correct horse battery staple');
    expect(await hasher.verify(hash, 'correct horse battery staple')).toBe(true);
    expect(await hasher.verify(hash, 'Correct horse battery staple')).toBe(false);
  });

  it('treats an unreadable hash as a failed verification, and as needing a rehash', async () => {
    expect(await hasher.verify('not-a-hash', 'whatever')).toBe(false);
    expect(hasher.needsRehash('not-a-hash')).toBe(true);
  });

  it('flags hashes made with weaker parameters for a rehash', async () => {
    const argon2 = await import('argon2');
    const weak = await argon2.hash('pw', { ...ARGON2_PARAMS, timeCost: 1 });
    expect(hasher.needsRehash(weak)).toBe(true);
  });

  it('spends a real verification on unknown users, and never succeeds', async () => {
    await expect(hasher.verifyAgainstDummy('anything')).resolves.toBeUndefined();
  });
});
