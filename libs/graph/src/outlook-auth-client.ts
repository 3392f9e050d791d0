import {
  AuthError,
  ConfidentialClientApplication,
  CryptoProvider,
  InteractionRequiredAuthError,
  LogLevel,
  ServerError,
  type AuthenticationResult,
  type JsonCache,
} from '@azure/msal-node';
import type { MicrosoftConfig } from '@email-core/config';
import { GraphMailClient, type GraphMailClientOptions } from './graph-mail-client';
import type { FetchLike } from './graph-middleware';
import { MicrosoftNetworkClient, microsoftFetch } from './microsoft-http';
import {
  OutlookAuthError,
  ReauthRequiredError,
  type AuthorizationRequest,
  type LinkedIdentity,
  type TokenSet,
} from './types';

export interface OutlookAuthClientOptions {
  /** options for the `/me` call made when a code is redeemed (limiter, fetch, retries) */
  graph?: Omit<GraphMailClientOptions, 'graphBaseUrl' | 'mailboxKey' | 'getAccessToken'>;
  /** how long fetched OpenID metadata of the authority is reused (default 24 h) */
  metadataTtlMs?: number;
  /**
   * How every request to the authority goes out (metadata, MSAL's token calls, and `/me` unless `graph.fetch` says
   * otherwise); default: {@link microsoftFetch} with the config's `extraCa` (MS_CA_FILE)
   */
  fetch?: FetchLike;
}

/** OAuth errors at the token endpoint that mean the refresh token is dead: the user has to sign in again. */
const REAUTH_ERRORS = new Set([
  'invalid_grant',
  'interaction_required',
  'consent_required',
  'login_required',
  'bad_token',
]);

const AAD_REASONS: Record<string, string> = {
  '50173': 'refresh token revoked',
  '700082': 'refresh token expired (inactive)',
  '70008': 'refresh token expired',
  '70000': 'refresh token invalid',
  '50076': 'multi-factor authentication required',
  '65001': 'consent missing',
};

function aadCodeOf(err: AuthError): string | undefined {
  // ServerError and InteractionRequiredAuthError carry the first of the server's `error_codes`
  if ((err instanceof ServerError || err instanceof InteractionRequiredAuthError) && err.errorNo) {
    return String(err.errorNo);
  }
  return /AADSTS(\d+)/.exec(err.errorMessage)?.[1];
}

/**
 * Maps what MSAL throws to the product's errors without carrying MSAL's message along (it quotes the server's
 * description and correlation ids; never a token, but nothing of it is needed). During a refresh, a dead refresh
 * token (`invalid_grant` and the interaction-required family) becomes `ReauthRequiredError`; everything else,
 * and every failure while redeeming a code, becomes `OutlookAuthError` with the OAuth and AADSTS codes.
 */
export function mapMsalError(err: unknown, phase: 'redeem' | 'refresh'): Error {
  if (err instanceof ReauthRequiredError || err instanceof OutlookAuthError) return err;
  if (!(err instanceof AuthError)) {
    return new OutlookAuthError(
      err instanceof Error && err.name ? `unexpected_${err.name}` : 'unexpected_error',
    );
  }
  const code = err.errorCode || 'unknown_error';
  const aad = aadCodeOf(err);
  if (phase === 'refresh' && REAUTH_ERRORS.has(code)) {
    const what = (aad && AAD_REASONS[aad]) || 'refresh token rejected';
    return new ReauthRequiredError(`${what} (${code}${aad ? `, AADSTS${aad}` : ''})`, aad);
  }
  return new OutlookAuthError(code, aad);
}

/** The refresh token MSAL received, read from its (per-call) token cache: MSAL never returns it directly. */
export function refreshTokenFromCache(serializedCache: string, homeAccountId?: string): string | undefined {
  const cache = JSON.parse(serializedCache) as Partial<JsonCache>;
  const entries = Object.values(cache.RefreshToken ?? {});
  const mine = homeAccountId ? entries.filter((e) => e.home_account_id === homeAccountId) : entries;
  return (mine[0] ?? entries[0])?.secret;
}

interface IdClaims {
  oid?: string;
  preferred_username?: string;
  email?: string;
  name?: string;
}

/**
 * The Microsoft identity platform (or the emulator) through @azure/msal-node as a confidential client:
 * authorization code with PKCE, code redemption and refresh.
 *
 * Refresh tokens live encrypted in Postgres, not in MSAL: every token call runs on a new
 * `ConfidentialClientApplication` with an empty in-memory cache, and the refresh token Microsoft returned is
 * read from that cache's serialization afterwards (`acquireTokenByRefreshToken` with `forceCache: true`, without
 * which MSAL drops the response of an account it has not seen). Nothing is shared between calls or accounts
 * except the authority's OpenID metadata, fetched once and handed to each instance.
 */
export class OutlookAuthClient {
  private readonly pkce = new CryptoProvider();
  private readonly knownAuthority: string;
  private metadata?: { json: string; at: number };
  private readonly fetch: FetchLike;
  private readonly networkClient: MicrosoftNetworkClient;

  constructor(
    private readonly config: MicrosoftConfig,
    private readonly options: OutlookAuthClientOptions = {},
  ) {
    // host *and port*: MSAL compares both, and a known authority skips instance discovery on the internet
    this.knownAuthority = new URL(config.authority).host;
    this.fetch = options.fetch ?? microsoftFetch(config.extraCa?.pem);
    this.networkClient = new MicrosoftNetworkClient(this.fetch);
  }

  /** The scopes asked for: the configured ones plus `openid profile` (MSAL adds `offline_access` itself). */
  get scopes(): string[] {
    return [...new Set([...this.config.scopes, 'openid', 'profile'])];
  }

  /** The URL to send the browser to, and the PKCE verifier to keep server-side until the callback. */
  async authorizationUrl(req: {
    state: string;
    redirectUri: string;
    loginHint?: string;
    prompt?: 'select_account' | 'login' | 'consent';
  }): Promise<AuthorizationRequest> {
    const { verifier, challenge } = await this.pkce.generatePkceCodes();
    const msal = await this.msal();
    const url = await msal.getAuthCodeUrl({
      scopes: this.scopes,
      redirectUri: req.redirectUri,
      state: req.state,
      loginHint: req.loginHint,
      prompt: req.prompt,
      codeChallenge: challenge,
      codeChallengeMethod: 'S256',
    });
    return { url, codeVerifier: verifier };
  }

  /**
   * Redeems the authorization code (with the PKCE verifier) and reads `/me` with the new access token.
   * Failures raise `OutlookAuthError` (e.g. `invalid_grant` for a reused or expired code, AADSTS54005/70008).
   */
  async redeemCode(req: {
    code: string;
    codeVerifier: string;
    redirectUri: string;
  }): Promise<{ tokens: TokenSet; identity: LinkedIdentity }> {
    const msal = await this.msal();
    let result: AuthenticationResult;
    try {
      result = await msal.acquireTokenByCode({
        code: req.code,
        codeVerifier: req.codeVerifier,
        redirectUri: req.redirectUri,
        scopes: this.scopes,
      });
    } catch (err) {
      throw mapMsalError(err, 'redeem');
    }
    const refreshToken = refreshTokenFromCache(
      msal.getTokenCache().serialize(),
      result.account?.homeAccountId,
    );
    if (!refreshToken) throw new OutlookAuthError('no_refresh_token');
    const tokens: TokenSet = {
      accessToken: result.accessToken,
      accessTokenExpiresAt: result.expiresOn ?? new Date(Date.now() + 3599_000),
      refreshToken,
    };
    const claims = (result.idTokenClaims ?? {}) as IdClaims;
    const graph = new GraphMailClient({
      ...this.options.graph,
      fetch: this.options.graph?.fetch ?? this.fetch,
      graphBaseUrl: this.config.graphBaseUrl,
      mailboxKey: `link:${claims.oid ?? result.account?.homeAccountId ?? 'unknown'}`,
      getAccessToken: () => Promise.resolve(tokens.accessToken),
    });
    const me = await graph.me();
    return {
      tokens,
      identity: {
        externalUserId: me.id,
        email: me.mail || me.userPrincipalName || claims.preferred_username || claims.email || '',
        displayName: me.displayName || claims.name || '',
      },
    };
  }

  /**
   * A new access token and the rotated refresh token (the old one if Microsoft sent none). A dead refresh token
   * raises `ReauthRequiredError`; other failures `OutlookAuthError`.
   */
  async refresh(refreshToken: string): Promise<TokenSet> {
    const msal = await this.msal();
    let result: AuthenticationResult | null;
    try {
      result = await msal.acquireTokenByRefreshToken({ refreshToken, scopes: this.scopes, forceCache: true });
    } catch (err) {
      throw mapMsalError(err, 'refresh');
    }
    if (!result) throw new OutlookAuthError('no_token_response');
    const rotated = refreshTokenFromCache(msal.getTokenCache().serialize(), result.account?.homeAccountId);
    return {
      accessToken: result.accessToken,
      accessTokenExpiresAt: result.expiresOn ?? new Date(Date.now() + 3599_000),
      refreshToken: rotated ?? refreshToken,
    };
  }

  private async msal(): Promise<ConfidentialClientApplication> {
    const authorityMetadata = await this.authorityMetadata();
    return new ConfidentialClientApplication({
      auth: {
        clientId: this.config.clientId,
        clientSecret: this.config.clientSecret,
        authority: this.config.authority,
        knownAuthorities: [this.knownAuthority],
        ...(authorityMetadata ? { authorityMetadata } : {}),
      },
      system: {
        // the authority's requests trust what Graph's do (MS_CA_FILE), and nothing else does
        networkClient: this.networkClient,
        loggerOptions: {
          logLevel: LogLevel.Error,
          piiLoggingEnabled: false,
          loggerCallback: () => undefined,
        },
      },
    });
  }

  /** The authority's OpenID configuration, fetched once per TTL; on failure MSAL fetches it itself. */
  private async authorityMetadata(): Promise<string | undefined> {
    const ttl = this.options.metadataTtlMs ?? 24 * 3600 * 1000;
    if (this.metadata && Date.now() - this.metadata.at < ttl) return this.metadata.json;
    try {
      const res = await this.fetch(`${this.config.authority}/v2.0/.well-known/openid-configuration`, {
        signal: AbortSignal.timeout(10_000),
      });
      if (!res.ok) return undefined;
      const json = JSON.stringify(await res.json());
      this.metadata = { json, at: Date.now() };
      return json;
    } catch {
      return undefined;
    }
  }
}
