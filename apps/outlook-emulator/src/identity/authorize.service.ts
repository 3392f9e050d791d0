import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AppRegistry } from './app-registry.service';
import { AuthorizationCodeService } from './authorization-code.service';
import { field, type FormFields } from './form-params';
import { aadErrorBody, IdentityError } from './identity-errors';
import { parseChallengeMethod, type CodeChallengeMethod } from './pkce';
import { formatScope, grantedGraphScopes, parseScopes, type ScopeSet } from './scopes';
import { SignInService } from './sign-in.service';
import { assertTenant } from './tenant';

export type ResponseMode = 'query' | 'fragment' | 'form_post';

/** a validated `/authorize` request */
export interface AuthorizeRequest {
  tenant: string;
  clientId: string;
  redirectUri: string;
  responseMode: ResponseMode;
  state?: string;
  scopes: ScopeSet;
  codeChallenge?: string;
  codeChallengeMethod: CodeChallengeMethod;
  nonce?: string;
  loginHint?: string;
  prompt?: string;
}

/** how `/authorize` answers: a page, or a response delivered to the redirect URI in the request's mode */
export type AuthorizeOutcome =
  | { kind: 'sign-in'; request: AuthorizeRequest; error?: string }
  | { kind: 'error-page'; status: number; description: string }
  | { kind: 'respond'; redirectUri: string; responseMode: ResponseMode; params: Record<string, string> };

type ResponseTarget = Pick<AuthorizeRequest, 'redirectUri' | 'responseMode' | 'state'>;

const RESPONSE_MODES = new Set<string>(['query', 'fragment', 'form_post']);

/**
 * The authorization endpoint's logic. Problems with the client or the redirect URI answer an error page
 * (the redirect URI can't be trusted); every later problem goes back to the redirect URI with `error` and the
 * `state`, as AAD does.
 */
@Injectable()
export class AuthorizeService {
  constructor(
    private readonly apps: AppRegistry,
    private readonly codes: AuthorizationCodeService,
    private readonly signIn: SignInService,
  ) {}

  /** `GET /{tenant}/oauth2/v2.0/authorize`: the sign-in page, or the error */
  begin(tenant: string, query: FormFields): AuthorizeOutcome {
    const checked = this.validate(tenant, query);
    if (checked.kind !== 'sign-in') return checked;
    if (checked.request.prompt === 'none') {
      // no browser session exists in the emulator, so a silent request always needs interaction
      return this.errorResponse(checked.request, new IdentityError('loginRequired'));
    }
    return checked;
  }

  /** `POST` of the sign-in form to the same URL: cancel, a sign-in error (the page again) or the code */
  complete(tenant: string, query: FormFields, form: FormFields, now = Date.now()): AuthorizeOutcome {
    const checked = this.validate(tenant, query);
    if (checked.kind !== 'sign-in') return checked;
    const { request } = checked;
    if (field(form, 'cancel') !== undefined)
      return this.errorResponse(request, new IdentityError('userDeclined'));
    const login = field(form, 'login');
    const result = this.signIn.authenticate(request.tenant, login, field(form, 'password'));
    if (!result.ok)
      return { kind: 'sign-in', request: { ...request, loginHint: login }, error: result.message };
    const grant = this.signIn.grantFor(result.mailbox, request.clientId, request.scopes, false, now);
    const code = this.codes.issue(
      grant,
      {
        redirectUri: request.redirectUri,
        codeChallenge: request.codeChallenge,
        codeChallengeMethod: request.codeChallengeMethod,
        nonce: request.nonce,
      },
      now,
    );
    return this.respond(request, { code, ...(request.state !== undefined ? { state: request.state } : {}) });
  }

  /** what the sign-in page lists as asked for: the Graph permissions and OIDC scopes */
  describeScopes(request: AuthorizeRequest): string[] {
    return formatScope(grantedGraphScopes(request.scopes), request.scopes.oidc).split(' ').filter(Boolean);
  }

  private validate(tenant: string, query: FormFields): AuthorizeOutcome {
    try {
      assertTenant(tenant);
    } catch (err) {
      if (err instanceof IdentityError) return this.errorPage(err);
      throw err;
    }
    const clientId = field(query, 'client_id');
    if (clientId === undefined)
      return this.errorPage(new IdentityError('missingParameter', { name: 'client_id' }));
    const app = this.apps.get(clientId);
    if (!app) return this.errorPage(new IdentityError('unknownClient', { clientId, tenant }));
    const redirectUri = field(query, 'redirect_uri');
    if (redirectUri === undefined) {
      return this.errorPage(new IdentityError('missingParameter', { name: 'redirect_uri' }));
    }
    if (!app.redirectUris.includes(redirectUri)) {
      return this.errorPage(new IdentityError('redirectUriMismatch', { redirectUri, clientId }));
    }
    const mode = field(query, 'response_mode') ?? 'query';
    if (!RESPONSE_MODES.has(mode)) {
      return this.errorPage(new IdentityError('unsupportedResponseMode', { responseMode: mode }));
    }
    const base = {
      tenant,
      clientId,
      redirectUri,
      responseMode: mode as ResponseMode,
      state: query.state === undefined ? undefined : (field(query, 'state') ?? ''),
    };
    // from here on the redirect URI is trusted: problems go back to it
    const fail = (error: IdentityError): AuthorizeOutcome => this.errorResponse(base, error);
    const responseType = field(query, 'response_type');
    if (responseType === undefined)
      return fail(new IdentityError('missingParameter', { name: 'response_type' }));
    if (responseType !== 'code') return fail(new IdentityError('unsupportedResponseType', { responseType }));
    const rawScope = field(query, 'scope');
    if (rawScope === undefined) return fail(new IdentityError('missingParameter', { name: 'scope' }));
    let scopes: ScopeSet;
    try {
      scopes = parseScopes(rawScope);
    } catch (err) {
      if (err instanceof IdentityError) return fail(err);
      throw err;
    }
    const rawMethod = field(query, 'code_challenge_method');
    const method = parseChallengeMethod(rawMethod);
    if (method === undefined) {
      return fail(new IdentityError('invalidCodeChallengeMethod', { method: rawMethod ?? '' }));
    }
    return {
      kind: 'sign-in',
      request: {
        ...base,
        scopes,
        codeChallenge: field(query, 'code_challenge'),
        codeChallengeMethod: method,
        nonce: field(query, 'nonce'),
        loginHint: field(query, 'login_hint'),
        prompt: field(query, 'prompt'),
      },
    };
  }

  private errorPage(error: IdentityError): AuthorizeOutcome {
    const body = error.body();
    return { kind: 'error-page', status: 400, description: body.error_description };
  }

  private errorResponse(request: ResponseTarget, error: IdentityError): AuthorizeOutcome {
    const body = aadErrorBody(error.entry, error.params);
    return this.respond(request, {
      error: body.error,
      error_description: body.error_description,
      ...(request.state !== undefined ? { state: request.state } : {}),
    });
  }

  private respond(request: ResponseTarget, params: Record<string, string>): AuthorizeOutcome {
    const withSession = 'code' in params ? { ...params, session_state: randomUUID() } : params;
    return {
      kind: 'respond',
      redirectUri: request.redirectUri,
      responseMode: request.responseMode,
      params: withSession,
    };
  }
}
