import type { Request } from 'express';
import { linkKeyHash, linkKeyMatches, readLinkKey, readOrMintLinkKey } from './link-browser-cookie';

const req = (cookie?: string) => ({ headers: cookie === undefined ? {} : { cookie } }) as Request;

describe('link browser cookie', () => {
  const key = 'A'.repeat(43);

  it('reads the key among other cookies and ignores malformed values', () => {
    expect(readLinkKey(req(`ec_refresh=x; ec_link=${key}; other=1`))).toBe(key);
    expect(readLinkKey(req('ec_link=short'))).toBeUndefined();
    expect(readLinkKey(req())).toBeUndefined();
  });

  it('keeps the browser key when there is one, mints 256 random bits otherwise', () => {
    expect(readOrMintLinkKey(req(`ec_link=${key}`))).toBe(key);
    const minted = readOrMintLinkKey(req());
    expect(minted).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(readOrMintLinkKey(req())).not.toBe(minted);
  });

  it('matches only the browser whose key was hashed', () => {
    const hash = linkKeyHash(key);
    expect(linkKeyMatches(hash, key)).toBe(true);
    expect(linkKeyMatches(hash, 'B'.repeat(43))).toBe(false);
    expect(linkKeyMatches(hash, undefined)).toBe(false);
  });
});
