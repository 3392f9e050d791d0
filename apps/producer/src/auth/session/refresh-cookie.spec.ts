import type { Request, Response } from 'express';
import type { ProducerConfig } from '@email-core/config';
import { REFRESH_COOKIE_NAME, RefreshCookie, refreshCookieOptions } from './refresh-cookie';

describe('the refresh cookie', () => {
  it('is httpOnly, SameSite=Strict and scoped to the auth routes', () => {
    expect(refreshCookieOptions('http://127.0.0.1:3000')).toEqual({
      httpOnly: true,
      sameSite: 'strict',
      secure: false,
      path: '/api/v1/auth',
    });
  });

  it('is Secure when the API is served over https', () => {
    expect(refreshCookieOptions('https://mail.example.com').secure).toBe(true);
  });

  it('is set with its expiry, cleared with the same scope, and read only as a string', () => {
    const cookie = new RefreshCookie({ publicBaseUrl: 'https://mail.example.com' } as ProducerConfig);
    const res = { cookie: jest.fn(), clearCookie: jest.fn() };
    const expiresAt = new Date('2030-01-01T00:00:00Z');
    cookie.set(res as unknown as Response, { token: 'tok', expiresAt });
    expect(res.cookie).toHaveBeenCalledWith(REFRESH_COOKIE_NAME, 'tok', {
      httpOnly: true,
      sameSite: 'strict',
      secure: true,
      path: '/api/v1/auth',
      expires: expiresAt,
    });
    cookie.clear(res as unknown as Response);
    expect(res.clearCookie).toHaveBeenCalledWith(REFRESH_COOKIE_NAME, {
      httpOnly: true,
      sameSite: 'strict',
      secure: true,
      path: '/api/v1/auth',
    });
    expect(cookie.read({ cookies: { ec_refresh: 'abc' } } as unknown as Request)).toBe('abc');
    expect(cookie.read({ cookies: { ec_refresh: ['a', 'b'] } } as unknown as Request)).toBeUndefined();
    expect(cookie.read({} as Request)).toBeUndefined();
  });
});
