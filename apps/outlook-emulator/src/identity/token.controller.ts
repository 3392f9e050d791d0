import { Body, Controller, Header, HttpCode, Param, Post, Req, UseFilters } from '@nestjs/common';
import type { Request } from 'express';
import { originOf } from '../http/origin';
import type { FormFields } from './form-params';
import { IdentityErrorFilter } from './identity-error.filter';
import { assertTenant } from './tenant';
import { TokenGrantsService, type TokenResponse } from './token-grants.service';

/** `POST /{tenant}/oauth2/v2.0/token` */
@Controller()
@UseFilters(IdentityErrorFilter)
export class TokenController {
  constructor(private readonly grants: TokenGrantsService) {}

  @Post(':tenant/oauth2/v2.0/token')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store, no-cache')
  @Header('Pragma', 'no-cache')
  token(
    @Param('tenant') tenant: string,
    @Body() form: FormFields | undefined,
    @Req() req: Request,
  ): TokenResponse {
    assertTenant(tenant);
    return this.grants.exchange({
      tenant,
      origin: originOf(req),
      form: form ?? {},
      authorization: req.headers.authorization,
    });
  }
}
