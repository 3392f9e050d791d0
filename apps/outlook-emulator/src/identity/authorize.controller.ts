import { Body, Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AuthorizeService, type AuthorizeOutcome } from './authorize.service';
import type { FormFields } from './form-params';
import { sendHtml } from './html-response';
import { errorPage, formPostPage, signInPage } from './identity-pages';
import { SignInService } from './sign-in.service';

/** `/{tenant}/oauth2/v2.0/authorize`: the sign-in page (GET) and its form (POST to the same URL) */
@Controller()
export class AuthorizeController {
  constructor(
    private readonly authorize: AuthorizeService,
    private readonly signIn: SignInService,
  ) {}

  @Get(':tenant/oauth2/v2.0/authorize')
  show(
    @Param('tenant') tenant: string,
    @Query() query: FormFields,
    @Req() req: Request,
    @Res() res: Response,
  ): void {
    this.send(req, res, this.authorize.begin(tenant, query));
  }

  @Post(':tenant/oauth2/v2.0/authorize')
  submit(
    @Param('tenant') tenant: string,
    @Query() query: FormFields,
    @Body() form: FormFields | undefined,
    @Req() req: Request,
    @Res() res: Response,
  ): void {
    this.send(req, res, this.authorize.complete(tenant, query, form ?? {}));
  }

  private send(req: Request, res: Response, outcome: AuthorizeOutcome): void {
    switch (outcome.kind) {
      case 'sign-in':
        return sendHtml(
          res,
          200,
          signInPage({
            action: req.originalUrl,
            clientId: outcome.request.clientId,
            scopes: this.authorize.describeScopes(outcome.request),
            loginHint: outcome.request.loginHint,
            error: outcome.error,
            mailboxes: this.signIn.mailboxChoices(),
          }),
        );
      case 'error-page':
        return sendHtml(res, outcome.status, errorPage(outcome.description));
      case 'respond':
        if (outcome.responseMode === 'form_post') {
          return sendHtml(res, 200, formPostPage(outcome.redirectUri, outcome.params));
        }
        res.set('Cache-Control', 'no-store').redirect(302, redirectLocation(outcome));
        return;
    }
  }
}

/** the redirect URI with the response in its query (keeping any query it has) or in its fragment */
function redirectLocation(outcome: Extract<AuthorizeOutcome, { kind: 'respond' }>): string {
  const url = new URL(outcome.redirectUri);
  if (outcome.responseMode === 'fragment') {
    url.hash = new URLSearchParams(outcome.params).toString();
  } else {
    for (const [name, value] of Object.entries(outcome.params)) url.searchParams.set(name, value);
  }
  return url.toString();
}
