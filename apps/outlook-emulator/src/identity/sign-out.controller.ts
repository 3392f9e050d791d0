import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { field, type FormFields } from './form-params';
import { sendHtml } from './html-response';
import { messagePage } from './identity-pages';

/**
 * `/{tenant}/oauth2/v2.0/logout`: the emulator keeps no browser session, so signing out is only the redirect to
 * `post_logout_redirect_uri` (with `state`), or a page saying it's done.
 */
@Controller()
export class SignOutController {
  @Get(':tenant/oauth2/v2.0/logout')
  logout(@Param('tenant') _tenant: string, @Query() query: FormFields, @Res() res: Response): void {
    const target = field(query, 'post_logout_redirect_uri');
    const url = target === undefined ? undefined : httpUrl(target);
    if (!url) {
      return sendHtml(
        res,
        200,
        messagePage('You signed out of your account', "It's a good idea to close all browser windows."),
      );
    }
    const state = field(query, 'state');
    if (state !== undefined) url.searchParams.set('state', state);
    res.set('Cache-Control', 'no-store').redirect(302, url.toString());
  }
}

function httpUrl(value: string): URL | undefined {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url : undefined;
  } catch {
    return undefined;
  }
}
