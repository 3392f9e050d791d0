import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';

/**
 * Binds a link in progress to the browser that started it. The access token is a bearer header, which the
 * browser does not send when Microsoft redirects it back, so without this the callback could not tell whose
 * browser arrived: someone could start a link in their own account and have another person complete it with
 * that person's mailbox (the mailbox would land in the first account). The authorize answer sets a random,
 * httpOnly cookie scoped to the callback path; the pending link stores its hash; the callback requires it.
 * SameSite=Lax, because the return from Microsoft is a cross-site top-level GET, which Lax lets through.
 *
 * Over https the cookie is `__Host-ec_link`: the browser accepts that name only with Secure, Path=/ and no Domain,
 * so a sibling subdomain (which may set cookies for the parent domain) cannot plant its own binding key, and only
 * that name is read. Over plain http (local development) it stays `ec_link` on the callback's path: browsers refuse
 * a Secure cookie from an http page (localhost aside), and a `__Host-` cookie must be Secure.
 */
export const LINK_COOKIE = 'ec_link';
export const SECURE_LINK_COOKIE = '__Host-ec_link';
const COOKIE_PATH = '/api/v1/accounts/outlook';
const MAX_AGE_SECONDS = 600;
const VALUE = /^[A-Za-z0-9_-]{43}$/;

/** the cookie's name: `__Host-ec_link` when the API is served over https, `ec_link` otherwise */
export function linkCookieName(secure: boolean): string {
  return secure ? SECURE_LINK_COOKIE : LINK_COOKIE;
}

/** this browser's link key, or a fresh one (one key serves several links started in one browser) */
export function readOrMintLinkKey(req: Request, secure: boolean): string {
  return readLinkKey(req, secure) ?? randomBytes(32).toString('base64url');
}

/** the key of the cookie of this mode only: over https a plain `ec_link` (plantable) is ignored */
export function readLinkKey(req: Request, secure: boolean): string | undefined {
  const name = linkCookieName(secure);
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) {
      const value = part.slice(i + 1).trim();
      return VALUE.test(value) ? value : undefined;
    }
  }
  return undefined;
}

export function writeLinkCookie(res: Response, key: string, secure: boolean): void {
  res.cookie(linkCookieName(secure), key, {
    httpOnly: true,
    sameSite: 'lax',
    secure,
    // a __Host- cookie must have Path=/ (and no Domain, which is never set here)
    path: secure ? '/' : COOKIE_PATH,
    maxAge: MAX_AGE_SECONDS * 1000,
  });
}

export function linkKeyHash(key: string): string {
  return createHash('sha256').update(key).digest('base64url');
}

export function linkKeyMatches(expectedHash: string, key: string | undefined): boolean {
  if (!key) return false;
  const a = Buffer.from(linkKeyHash(key));
  const b = Buffer.from(expectedHash);
  return a.length === b.length && timingSafeEqual(a, b);
}
