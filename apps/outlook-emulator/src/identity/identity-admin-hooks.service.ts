import { BadRequestException, Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { EmulatorConfig } from '@email-core/config';
import { EMULATOR_CONFIG } from '../core.module';
import { AdminHooks } from '../faults/admin-hooks';
import { MailboxStore } from '../store/mailbox-store';
import { AppRegistry } from './app-registry.service';
import { AuthorizationCodeService } from './authorization-code.service';
import { DeviceCodeService } from './device-code.service';
import { IdentityError } from './identity-errors';
import { RefreshTokenStore } from './refresh-token-store.service';
import { parseScopes } from './scopes';
import { TokenService } from './token.service';

/**
 * What the identity platform offers the admin API (which does not depend on this module): revoking a
 * mailbox's refresh tokens (`POST /_emulator/faults {revokeRefreshTokens}`), minting an access token without
 * the sign-in page (`POST /_emulator/tokens`), and going back to empty on `POST /_emulator/reset`.
 */
@Injectable()
export class IdentityAdminHooks implements OnModuleInit {
  constructor(
    private readonly hooks: AdminHooks,
    @Inject(EMULATOR_CONFIG) private readonly config: Pick<EmulatorConfig, 'demoApp'>,
    private readonly mailboxes: MailboxStore,
    private readonly apps: AppRegistry,
    private readonly codes: AuthorizationCodeService,
    private readonly refreshTokens: RefreshTokenStore,
    private readonly deviceCodes: DeviceCodeService,
    private readonly tokens: TokenService,
  ) {}

  onModuleInit(): void {
    this.hooks.revokeRefreshTokens = (address) => this.refreshTokens.revokeForMailbox(address);
    this.hooks.issueAccessToken = (input) => this.issueAccessToken(input);
    this.hooks.onReset(() => {
      this.apps.reset();
      this.codes.reset();
      this.refreshTokens.reset();
      this.deviceCodes.reset();
    });
  }

  /** an access token as the sign-in would give: for the demo app and `.default` unless told otherwise */
  private issueAccessToken(input: { address: string; clientId?: string; scopes?: string[] }): {
    access_token: string;
    expires_in: number;
  } {
    const mailbox = this.mailboxes.findByAddress(input.address);
    if (!mailbox)
      throw new BadRequestException({ error: 'invalid_request', message: `no mailbox ${input.address}` });
    let graph: string[];
    try {
      graph = parseScopes(input.scopes?.length ? input.scopes.join(' ') : '.default').graph;
    } catch (err) {
      if (err instanceof IdentityError)
        throw new BadRequestException({ error: 'invalid_scope', message: err.message });
      throw err;
    }
    const clientId = input.clientId ?? this.config.demoApp.clientId;
    if (!this.apps.get(clientId)) {
      throw new BadRequestException({
        error: 'unauthorized_client',
        message: `no app registered as ${clientId}`,
      });
    }
    const issued = this.tokens.issueAccessToken({
      clientId,
      address: mailbox.address,
      userId: mailbox.userId,
      tenantId: mailbox.tenantId,
      scopes: graph,
      oidc: [],
      authTime: Date.now(),
      publicClient: false,
    });
    return { access_token: issued.token, expires_in: issued.expiresIn };
  }
}
