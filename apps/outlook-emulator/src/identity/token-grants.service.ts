import { Injectable } from '@nestjs/common';
import { AuthorizationCodeService } from './authorization-code.service';
import { ClientAuthService, type ClientCredentials } from './client-auth.service';
import { DeviceCodeService } from './device-code.service';
import { field, type FormFields } from './form-params';
import type { Grant } from './grant';
import { IdentityError } from './identity-errors';
import { RefreshTokenStore } from './refresh-token-store.service';
import { firstScopeOutside, formatScope, parseScopes, type OidcScope } from './scopes';
import { TokenService } from './token.service';

/** RFC 8628's grant type; MSAL sends the short `device_code`, which AAD accepts too */
const DEVICE_CODE_GRANTS = ['urn:ietf:params:oauth:grant-type:device_code', 'device_code'];
const SUPPORTED_GRANTS = new Set(['authorization_code', 'refresh_token', ...DEVICE_CODE_GRANTS]);

export interface TokenRequest {
  tenant: string;
  /** `https://host:port` the client reached: the id token's issuer is built on it */
  origin: string;
  form: FormFields;
  authorization?: string;
}

/** the /token success body (v2-oauth2-auth-code-flow.md, plus the fields real responses carry) */
export interface TokenResponse {
  token_type: 'Bearer';
  scope: string;
  expires_in: number;
  ext_expires_in: number;
  refresh_in: number;
  access_token: string;
  refresh_token?: string;
  id_token?: string;
  client_info: string;
}

/**
 * `POST /{tenant}/oauth2/v2.0/token`: authenticates the client, then redeems an authorization code, a refresh
 * token or an approved device code for tokens. Every refusal is an IdentityError from the one table.
 */
@Injectable()
export class TokenGrantsService {
  constructor(
    private readonly clients: ClientAuthService,
    private readonly codes: AuthorizationCodeService,
    private readonly refreshTokens: RefreshTokenStore,
    private readonly deviceCodes: DeviceCodeService,
    private readonly tokens: TokenService,
  ) {}

  exchange(request: TokenRequest): TokenResponse {
    const { form } = request;
    const grantType = field(form, 'grant_type');
    if (grantType === undefined) throw new IdentityError('missingParameter', { name: 'grant_type' });
    const client = this.clients.identify(form, request.authorization, request.tenant);
    if (!SUPPORTED_GRANTS.has(grantType)) throw new IdentityError('unsupportedGrantType', { grantType });
    if (grantType === 'authorization_code') return this.authorizationCode(request, client);
    if (grantType === 'refresh_token') return this.refreshToken(request, client);
    return this.deviceCode(request, client);
  }

  private authorizationCode(request: TokenRequest, client: ClientCredentials): TokenResponse {
    const { form } = request;
    this.clients.requireSecret(client);
    const code = field(form, 'code');
    if (code === undefined) throw new IdentityError('missingParameter', { name: 'code' });
    const requested = this.requestedScopes(form);
    const { grant, binding } = this.codes.redeem(code, {
      clientId: client.app.clientId,
      redirectUri: field(form, 'redirect_uri'),
      codeVerifier: field(form, 'code_verifier'),
    });
    if (requested) this.assertWithin(requested.graph, grant.scopes);
    return this.respond(request, grant, grant.scopes, grant.oidc, binding.nonce);
  }

  private refreshToken(request: TokenRequest, client: ClientCredentials): TokenResponse {
    const { form } = request;
    const token = field(form, 'refresh_token');
    if (token === undefined) throw new IdentityError('missingParameter', { name: 'refresh_token' });
    const requested = this.requestedScopes(form);
    const grant = this.refreshTokens.redeem(token, client.app.clientId);
    if (!grant.publicClient) this.clients.requireSecret(client);
    if (requested) this.assertWithin(requested.graph, grant.scopes);
    const graph = requested?.graph.length ? requested.graph : grant.scopes;
    return this.respond(request, grant, graph, requested ? requested.oidc : grant.oidc, undefined);
  }

  private deviceCode(request: TokenRequest, client: ClientCredentials): TokenResponse {
    const deviceCode = field(request.form, 'device_code');
    if (deviceCode === undefined) throw new IdentityError('missingParameter', { name: 'device_code' });
    const grant = this.deviceCodes.poll(deviceCode, client.app.clientId);
    return this.respond(request, grant, grant.scopes, grant.oidc, undefined);
  }

  /** the optional `scope` of a redemption, parsed (AADSTS70011 for an unknown one) */
  private requestedScopes(form: FormFields): ReturnType<typeof parseScopes> | undefined {
    const raw = field(form, 'scope');
    return raw === undefined ? undefined : parseScopes(raw);
  }

  /** a redemption may narrow the granted Graph scopes, never widen them */
  private assertWithin(requested: readonly string[], granted: readonly string[]): void {
    const outside = firstScopeOutside(requested, granted);
    if (outside !== undefined) throw new IdentityError('invalidScope', { scope: outside });
  }

  /**
   * Tokens for a grant: an access token for `graph`; a new refresh token (the grant's full scopes, rotation)
   * when offline_access is in the grant; an id token when openid was asked.
   */
  private respond(
    request: TokenRequest,
    grant: Grant,
    graph: readonly string[],
    oidc: readonly OidcScope[],
    nonce: string | undefined,
  ): TokenResponse {
    const accessGrant: Grant = { ...grant, scopes: [...graph] };
    const access = this.tokens.issueAccessToken(accessGrant);
    const withRefresh = grant.oidc.includes('offline_access');
    return {
      token_type: 'Bearer',
      scope: formatScope(graph, oidc),
      expires_in: access.expiresIn,
      ext_expires_in: access.expiresIn,
      refresh_in: Math.floor(access.expiresIn / 2),
      access_token: access.token,
      ...(withRefresh ? { refresh_token: this.refreshTokens.issue(grant) } : {}),
      ...(oidc.includes('openid')
        ? { id_token: this.tokens.issueIdToken(grant, request.origin, nonce) }
        : {}),
      client_info: Buffer.from(JSON.stringify({ uid: grant.userId, utid: grant.tenantId })).toString(
        'base64url',
      ),
    };
  }
}
