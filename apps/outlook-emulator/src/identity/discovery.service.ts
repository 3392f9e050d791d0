import { Inject, Injectable } from '@nestjs/common';
import type { EmulatorConfig } from '@email-core/config';
import { EMULATOR_CONFIG } from '../core.module';
import { OIDC_SCOPES } from './scopes';
import { SigningKeyService, type Jwk } from './signing-key.service';
import { issuerTenantId } from './tenant';

/**
 * The metadata MSAL and OIDC libraries read before anything else, built on the origin the client reached
 * (`https://localhost:8443`, or `https://login.microsoftonline.com` behind a hosts-file entry) and the tenant
 * segment it asked for, shaped as AAD's.
 */
@Injectable()
export class DiscoveryService {
  constructor(
    @Inject(EMULATOR_CONFIG) private readonly config: Pick<EmulatorConfig, 'hostnames'>,
    private readonly keys: SigningKeyService,
  ) {}

  /** `/{tenant}/v2.0/.well-known/openid-configuration` */
  openidConfiguration(origin: string, tenant: string): Record<string, unknown> {
    const base = `${origin}/${tenant}`;
    const host = new URL(origin).host;
    return {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code'],
      scopes_supported: [...OIDC_SCOPES],
      issuer: this.issuer(origin, tenant),
      request_uri_parameter_supported: false,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      claims_supported: [
        'sub',
        'iss',
        'aud',
        'exp',
        'iat',
        'auth_time',
        'nonce',
        'preferred_username',
        'name',
        'tid',
        'ver',
        'email',
        'oid',
      ],
      grant_types_supported: [
        'authorization_code',
        'refresh_token',
        'urn:ietf:params:oauth:grant-type:device_code',
      ],
      code_challenge_methods_supported: ['plain', 'S256'],
      tenant_region_scope: null,
      cloud_instance_name: host,
      cloud_graph_host_name: host,
      msgraph_host: host,
      rbac_url: null,
    };
  }

  /** `/{tenant}/discovery/v2.0/keys` */
  jwks(origin: string, tenant: string): { keys: Jwk[] } {
    return { keys: [this.keys.jwk(this.issuer(origin, tenant))] };
  }

  /**
   * `/common/discovery/instance`, MSAL's instance discovery: the tenant's discovery document and the host
   * aliases that share one token cache (the host reached and the emulator's configured names).
   */
  instanceDiscovery(origin: string, authorizationEndpoint: string | undefined): Record<string, unknown> {
    const host = new URL(origin).host;
    let tenant = 'common';
    try {
      tenant = new URL(authorizationEndpoint ?? '').pathname.split('/').filter(Boolean)[0] ?? 'common';
    } catch {
      // absent or not a URL: AAD answers for common
    }
    const aliases = [...new Set([host, ...this.config.hostnames])];
    return {
      tenant_discovery_endpoint: `${origin}/${tenant}/v2.0/.well-known/openid-configuration`,
      'api-version': '1.1',
      metadata: [{ preferred_network: host, preferred_cache: host, aliases }],
    };
  }

  private issuer(origin: string, tenant: string): string {
    return `${origin}/${issuerTenantId(tenant)}/v2.0`;
  }
}
