import { createHash } from 'node:crypto';
import { hashRefreshToken, isWellFormedRefreshToken, newRefreshToken } from './refresh-token';

describe('refresh tokens', () => {
  it('are 256 random bits in base64url, never twice the same', () => {
    const tokens = Array.from({ length: 100 }, () => newRefreshToken());
    for (const t of tokens) {
      expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(t, 'base64url')).toHaveLength(32);
      expect(isWellFormedRefreshToken(t)).toBe(true);
    }
    expect(new Set(tokens).size).toBe(100);
  });

  it('are stored as their sha256, in hex', () => {
    const t = newRefreshToken();
    expect(hashRefreshToken(t)).toBe(createHash('sha256').update(t).digest('hex'));
    expect(hashRefreshToken(t)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashRefreshToken(t)).not.toBe(hashRefreshToken(newRefreshToken()));
  });

  it('refuse anything that cannot be one before it reaches the database', () => {
    for (const v of [
      undefined,
      null,
      42,
      '',
      'short',
      `${'a'.repeat(42)}=`,
      'a'.repeat(44),
      `${'a'.repeat(42)}+`,
    ]) {
      expect(isWellFormedRefreshToken(v)).toBe(false);
    }
  });
});
