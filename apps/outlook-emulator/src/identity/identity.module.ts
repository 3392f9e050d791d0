import { Module } from '@nestjs/common';
import { AccessTokenVerifier } from './access-claims';
import { AppRegistry } from './app-registry.service';
import { AppsAdminController } from './apps-admin.controller';
import { AuthorizationCodeService } from './authorization-code.service';
import { AuthorizeController } from './authorize.controller';
import { AuthorizeService } from './authorize.service';
import { ClientAuthService } from './client-auth.service';
import { DeviceCodeController } from './device-code.controller';
import { DeviceCodeService } from './device-code.service';
import { DeviceLoginService } from './device-login.service';
import { DiscoveryController } from './discovery.controller';
import { DiscoveryService } from './discovery.service';
import { IdentityAdminHooks } from './identity-admin-hooks.service';
import { IdentitySettings } from './identity-settings';
import { RefreshTokenStore } from './refresh-token-store.service';
import { SignInService } from './sign-in.service';
import { SignOutController } from './sign-out.controller';
import { SigningKeyService } from './signing-key.service';
import { TokenGrantsService } from './token-grants.service';
import { TokenController } from './token.controller';
import { TokenService } from './token.service';

/**
 * The Microsoft identity platform stand-in (login.microsoftonline.com): sign-in, tokens, discovery, device
 * code, and the client app registry. Graph verifies bearer tokens through `AccessTokenVerifier`; the admin API
 * reaches it through AdminHooks (revoke, mint a token, reset), wired by IdentityAdminHooks.
 */
@Module({
  controllers: [
    AuthorizeController,
    TokenController,
    DeviceCodeController,
    DiscoveryController,
    SignOutController,
    AppsAdminController,
  ],
  providers: [
    { provide: IdentitySettings, useFactory: () => IdentitySettings.fromEnv() },
    SigningKeyService,
    TokenService,
    { provide: AccessTokenVerifier, useExisting: TokenService },
    AppRegistry,
    AuthorizationCodeService,
    RefreshTokenStore,
    DeviceCodeService,
    ClientAuthService,
    SignInService,
    AuthorizeService,
    TokenGrantsService,
    DeviceLoginService,
    DiscoveryService,
    IdentityAdminHooks,
  ],
  exports: [AccessTokenVerifier, AppRegistry, RefreshTokenStore, TokenService],
})
export class IdentityModule {}
