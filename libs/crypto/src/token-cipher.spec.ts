import { randomBytes } from 'node:crypto';
import { TokenCipher, UnknownKeyError } from './token-cipher';

const key = (id: string) => ({ id, key: randomBytes(32) });

describe('TokenCipher', () => {
  it('round-trips and never stores the plaintext', () => {
    const cipher = new TokenCipher([key('k1')]);
    const sealed = cipher.seal('refresh-token-value', 'account:1');
    expect(sealed.keyId).toBe('k1');
    expect(Buffer.from(sealed.data, 'base64').toString('latin1')).not.toContain('refresh-token-value');
    expect(cipher.open(sealed, 'account:1')).toBe('refresh-token-value');
  });

  it('uses a fresh IV each time', () => {
    const cipher = new TokenCipher([key('k1')]);
    expect(cipher.seal('x', 'a').data).not.toBe(cipher.seal('x', 'a').data);
  });

  it('refuses a ciphertext moved to another row (AAD mismatch)', () => {
    const cipher = new TokenCipher([key('k1')]);
    const sealed = cipher.seal('secret', 'account:1');
    expect(() => cipher.open(sealed, 'account:2')).toThrow();
  });

  it('refuses a tampered ciphertext', () => {
    const cipher = new TokenCipher([key('k1')]);
    const sealed = cipher.seal('secret', 'a');
    const raw = Buffer.from(sealed.data, 'base64');
    raw[raw.length - 1] ^= 0xff;
    expect(() => cipher.open({ ...sealed, data: raw.toString('base64') }, 'a')).toThrow();
  });

  it('decrypts with an old key after rotation and flags it for re-encryption', () => {
    const old = key('old');
    const sealed = new TokenCipher([old]).seal('secret', 'a');
    const rotated = new TokenCipher([key('new'), old]);
    expect(rotated.open(sealed, 'a')).toBe('secret');
    expect(rotated.needsRotation(sealed)).toBe(true);
    expect(rotated.needsRotation(rotated.seal('secret', 'a'))).toBe(false);
  });

  it('names an unknown key id', () => {
    const sealed = new TokenCipher([key('gone')]).seal('secret', 'a');
    expect(() => new TokenCipher([key('k2')]).open(sealed, 'a')).toThrow(UnknownKeyError);
  });
});
