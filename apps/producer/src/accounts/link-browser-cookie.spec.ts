import type { CookieOptions, Request, Response } from 'express';
import {
  linkCookieName,
  linkKeyHash,
  linkKeyMatches,
  readLinkKey,
  readOrMintLinkKey,
  writeLinkCookie,
} from './link-browser-cookie';

const req = (cookie?: string) => ({ headers: cookie === undefined ? {} : { cookie } }) as Request;

describe('link browser cookie', () => {
  const key = 'A'.repeat(43);

  it('reads the key among other cookies and ignores malformed values', () => {
    expect(readLinkKey(req(`ec_refresh=x; ec_link=${key}; other=1`), false)).toBe(key);
    expect(readLinkKey(req('ec_link=short'), false)).toBeUndefined();
    expect(readLinkKey(req(), false)).toBeUndefined();
  });

  it('over https reads only __Host-ec_link: a plain ec_link (settable from a sibling subdomain) is ignored', () => {
    expect(readLinkKey(req(`__Host-ec_link=${key}`), true)).toBe(key);
    expect(readLinkKey(req(`ec_link=${key}`), true)).toBeUndefined();
    expect(readLinkKey(req(`ec_link=${'B'.repeat(43)}; __Host-ec_link=${key}`), true)).toBe(key);
    expect(readLinkKey(req(`__Host-ec_link=${key}`), false)).toBeUndefined();
  });

  it('keeps the browser key when there is one, mints 256 random bits otherwise', () => {
    expect(readOrMintLinkKey(req(`ec_link=${key}`), false)).toBe(key);
    const minted = readOrMintLinkKey(req(), false);
    expect(minted).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(readOrMintLinkKey(req(), false)).not.toBe(minted);
    expect(readOrMintLinkKey(req(`ec_link=${key}`), true)).not.toBe(key);
  });

  it('writes __Host-ec_link (Secure, Path=/, no Domain) over https, ec_link on the callback path over http', () => {
    const cookies: Array<{ name: string; options: CookieOptions }> = [];
    const res = {
      cookie: (name: string, _value: string, options: CookieOptions) => cookies.push({ name, options }),
    } as unknown as Response;
    writeLinkCookie(res, key, true);
    writeLinkCookie(res, key, false);
    expect(cookies[0]).toEqual({
      name: '__Host-ec_link',
      options: { httpOnly: true, sameSite: 'lax', secure: true, path: '/', maxAge: 600_000 },
    });
    expect(cookies[1]).toEqual({
      name: 'ec_link',
      options: {
        httpOnly: true,
        sameSite: 'lax',
        secure: false,
        path: '/api/v1/accounts/outlook',
        maxAge: 600_000,
      },
    });
    expect(linkCookieName(true)).toBe('__Host-ec_link');
  });

  it('matches only the browser whose key was hashed', () => {
    const hash = linkKeyHash(key);
    expect(linkKeyMatches(hash, key)).toBe(true);
    expect(linkKeyMatches(hash, 'B'.repeat(43))).toBe(false);
    expect(linkKeyMatches(hash, undefined)).toBe(false);
  });
});
