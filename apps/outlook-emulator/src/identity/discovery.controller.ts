import { Controller, Get, Param, Query, Req, UseFilters } from '@nestjs/common';
import type { Request } from 'express';
import { originOf } from '../http/origin';
import { DiscoveryService } from './discovery.service';
import { field, type FormFields } from './form-params';
import { IdentityErrorFilter } from './identity-error.filter';
import { assertTenant } from './tenant';

/** OpenID Connect discovery, the signing keys and MSAL's instance discovery */
@Controller()
@UseFilters(IdentityErrorFilter)
export class DiscoveryController {
  constructor(private readonly discovery: DiscoveryService) {}

  @Get('common/discovery/instance')
  instance(@Query() query: FormFields, @Req() req: Request): Record<string, unknown> {
    return this.discovery.instanceDiscovery(originOf(req), field(query, 'authorization_endpoint'));
  }

  @Get(':tenant/v2.0/.well-known/openid-configuration')
  openidConfiguration(@Param('tenant') tenant: string, @Req() req: Request): Record<string, unknown> {
    assertTenant(tenant);
    return this.discovery.openidConfiguration(originOf(req), tenant);
  }

  @Get([':tenant/discovery/v2.0/keys', ':tenant/discovery/keys'])
  keys(@Param('tenant') tenant: string, @Req() req: Request): ReturnType<DiscoveryService['jwks']> {
    assertTenant(tenant);
    return this.discovery.jwks(originOf(req), tenant);
  }
}
