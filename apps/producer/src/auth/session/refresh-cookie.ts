import { Inject, Injectable } from '@nestjs/common';
import type { CookieOptions, Request, Response } from 'express';
import type { ProducerConfig } from '@email-core/config';
import { PRODUCER_CONFIG } from '../../config.module';

export const REFRESH_COOKIE_NAME = 'ec_refresh';
/** only the auth routes ever receive the refresh token (the API's global prefix is api/v1) */
export const REFRESH_COOKIE_PATH = '/api/v1/auth';

/**
 * httpOnly (no script reads it), SameSite=Strict (the browser sends it only on requests our own pages make,
 * and the only routes that read it are POSTs the dashboard calls with fetch), Secure when the API is served over https.
 */
export function refreshCookieOptions(publicBaseUrl: string): CookieOptions {
  return {
    httpOnly: true,
    sameSite: 'strict',
    secure: publicBaseUrl.startsWith('https:'),
    path: REFRESH_COOKIE_PATH,
  };
}

/** Reads, sets and clears the refresh-token cookie (cookie-parser runs in main.ts). */
@Injectable()
export class RefreshCookie {
  private readonly options: CookieOptions;

  constructor(@Inject(PRODUCER_CONFIG) config: ProducerConfig) {
    this.options = refreshCookieOptions(config.publicBaseUrl);
  }

  read(req: Request): string | undefined {
    const value: unknown = (req.cookies as Record<string, unknown> | undefined)?.[REFRESH_COOKIE_NAME];
    return typeof value === 'string' ? value : undefined;
  }

  set(res: Response, refresh: { token: string; expiresAt: Date }): void {
    res.cookie(REFRESH_COOKIE_NAME, refresh.token, { ...this.options, expires: refresh.expiresAt });
  }

  clear(res: Response): void {
    res.clearCookie(REFRESH_COOKIE_NAME, this.options);
  }
}
