import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import { originOf } from '../http/origin';
import { DeviceLoginService, type DeviceCodeResponse, type DeviceLoginOutcome } from './device-login.service';
import { field, type FormFields } from './form-params';
import { sendHtml } from './html-response';
import { IdentityErrorFilter } from './identity-error.filter';
import { deviceLoginPage, messagePage } from './identity-pages';
import { SignInService } from './sign-in.service';
import { assertTenant } from './tenant';

/** the device authorization grant: `/{tenant}/oauth2/v2.0/devicecode` and the `/devicelogin` page */
@Controller()
export class DeviceCodeController {
  constructor(
    private readonly deviceLogin: DeviceLoginService,
    private readonly signIn: SignInService,
  ) {}

  @Post(':tenant/oauth2/v2.0/devicecode')
  @HttpCode(200)
  @UseFilters(IdentityErrorFilter)
  start(
    @Param('tenant') tenant: string,
    @Body() form: FormFields | undefined,
    @Req() req: Request,
  ): DeviceCodeResponse {
    assertTenant(tenant);
    return this.deviceLogin.start(tenant, form ?? {}, originOf(req));
  }

  @Get('devicelogin')
  page(@Query() query: FormFields, @Res() res: Response): void {
    this.render(res, { kind: 'form', userCode: field(query, 'otc') });
  }

  @Post('devicelogin')
  confirm(@Body() form: FormFields | undefined, @Res() res: Response): void {
    this.render(res, this.deviceLogin.confirm(form ?? {}));
  }

  private render(res: Response, outcome: DeviceLoginOutcome): void {
    switch (outcome.kind) {
      case 'form':
        return sendHtml(
          res,
          200,
          deviceLoginPage({
            action: '/devicelogin',
            userCode: outcome.userCode,
            login: outcome.login,
            error: outcome.error,
            mailboxes: this.signIn.mailboxChoices(),
          }),
        );
      case 'approved':
        return sendHtml(
          res,
          200,
          messagePage(
            'You are signed in',
            `You have signed in to the ${outcome.clientId} application on your device. You may now close this window.`,
          ),
        );
      case 'declined':
        return sendHtml(
          res,
          200,
          messagePage(
            'Sign-in cancelled',
            `You declined to sign in to the ${outcome.clientId} application on your device.`,
          ),
        );
    }
  }
}
