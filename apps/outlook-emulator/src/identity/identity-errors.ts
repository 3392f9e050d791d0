import { randomUUID } from 'node:crypto';

/**
 * One row per error the identity endpoints answer: the HTTP status, the OAuth `error`, the AADSTS code and
 * the description text as Microsoft words it (`{name}` placeholders are filled per case). Every endpoint
 * answers from this table, so a code, its `error` and its status never disagree.
 * Texts: entra-docs reference-error-codes.md and real responses quoted in issues (see graph-contract.md §1).
 */
export interface IdentityErrorEntry {
  status: number;
  error: string;
  code: number;
  description: string;
  /** MSAL turns `bad_token` into InteractionRequiredAuthError and drops the refresh token from its cache */
  suberror?: string;
}

export const IDENTITY_ERRORS = {
  missingParameter: {
    status: 400,
    error: 'invalid_request',
    code: 900144,
    description: "The request body must contain the following parameter: '{name}'.",
  },
  invalidTenant: {
    status: 400,
    error: 'invalid_request',
    code: 90002,
    description:
      "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.",
  },
  unsupportedGrantType: {
    status: 400,
    error: 'unsupported_grant_type',
    code: 70003,
    description: "The app requested an unsupported grant type '{grantType}'.",
  },
  unknownClient: {
    status: 400,
    error: 'unauthorized_client',
    code: 700016,
    description:
      "Application with identifier '{clientId}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
  },
  invalidClientSecret: {
    status: 401,
    error: 'invalid_client',
    code: 7000215,
    description:
      "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{clientId}'.",
  },
  missingClientSecret: {
    status: 401,
    error: 'invalid_client',
    code: 7000218,
    description:
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
  },
  publicClientWithSecret: {
    status: 401,
    error: 'invalid_client',
    code: 700025,
    description: "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
  },
  clientIdMismatch: {
    status: 400,
    error: 'invalid_request',
    code: 90023,
    description:
      "The client_id '{clientId}' in the request body does not match the client in the Authorization header.",
  },
  redirectUriMismatch: {
    status: 400,
    error: 'invalid_client',
    code: 50011,
    description:
      "The redirect URI '{redirectUri}' specified in the request does not match the redirect URIs configured for the application '{clientId}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.",
  },
  redirectUriRequired: {
    status: 400,
    error: 'invalid_grant',
    code: 700009,
    description:
      'Reply address must be provided when presenting an authorization code requested with an explicit reply address.',
  },
  malformedGrant: {
    status: 400,
    error: 'invalid_grant',
    code: 9002313,
    description: 'Invalid request. Request is malformed or invalid.',
  },
  invalidGrant: {
    status: 400,
    error: 'invalid_grant',
    code: 70000,
    description: 'Provided grant is invalid or malformed.',
  },
  codeRedeemed: {
    status: 400,
    error: 'invalid_grant',
    code: 54005,
    description:
      'OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.',
  },
  codeExpired: {
    status: 400,
    error: 'invalid_grant',
    code: 70008,
    description:
      'The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.',
  },
  pkceMismatch: {
    status: 400,
    error: 'invalid_grant',
    code: 501481,
    description: 'The Code_Verifier does not match the code_challenge supplied in the authorization request.',
  },
  refreshTokenRevoked: {
    status: 400,
    error: 'invalid_grant',
    code: 50173,
    description:
      "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '{issuedAt}' and the TokensValidFrom date (before which tokens are not valid) for this user is '{validFrom}'.",
  },
  refreshTokenInactive: {
    status: 400,
    error: 'invalid_grant',
    code: 700082,
    description:
      'The refresh token has expired due to inactivity. The token was issued on {issuedAt} and was inactive for {inactiveFor}.',
    suberror: 'bad_token',
  },
  invalidScope: {
    status: 400,
    error: 'invalid_scope',
    code: 70011,
    description:
      "The provided value for the input parameter 'scope' is not valid. The scope '{scope}' is not valid.",
  },
  authorizationPending: {
    status: 400,
    error: 'authorization_pending',
    code: 70016,
    description: 'OAuth 2.0 device flow error. Authorization is pending. Continue polling.',
  },
  deviceCodeExpired: {
    status: 400,
    error: 'expired_token',
    code: 70019,
    description: 'Verification code expired.',
  },
  /** Microsoft's device-flow doc names `authorization_declined` (RFC 8628 says access_denied) */
  authorizationDeclined: {
    status: 400,
    error: 'authorization_declined',
    code: 65004,
    description: 'User declined to consent to access the app.',
  },
  badVerificationCode: {
    status: 400,
    error: 'bad_verification_code',
    code: 70018,
    description: "The provided value for the input parameter 'device_code' is not valid.",
  },
  /** authorize: the user pressed Cancel (an error redirect, not a JSON answer) */
  userDeclined: {
    status: 302,
    error: 'access_denied',
    code: 65004,
    description: 'User declined to consent to access the app.',
  },
  /** authorize with prompt=none: the emulator keeps no browser session, so interaction is always needed */
  loginRequired: {
    status: 302,
    error: 'login_required',
    code: 50058,
    description: 'A silent sign-in request was sent but no user is signed in.',
  },
  unsupportedResponseType: {
    status: 302,
    error: 'unsupported_response_type',
    code: 70005,
    description:
      "The provided value '{responseType}' for the input parameter 'response_type' is not supported. Expected 'code'.",
  },
  unsupportedResponseMode: {
    status: 400,
    error: 'invalid_request',
    code: 70007,
    description:
      "The provided value '{responseMode}' for the input parameter 'response_mode' is not supported.",
  },
  invalidCodeChallengeMethod: {
    status: 302,
    error: 'invalid_request',
    code: 50149,
    description:
      "Invalid Code_Challenge_method parameter '{method}'. Supported values are 'S256' and 'plain'.",
  },
} as const satisfies Record<string, IdentityErrorEntry>;

export type IdentityErrorKey = keyof typeof IDENTITY_ERRORS;

/** the JSON body of an error answer from /token and /devicecode */
export interface AadErrorBody {
  error: string;
  error_description: string;
  error_codes: number[];
  timestamp: string;
  trace_id: string;
  correlation_id: string;
  error_uri: string;
  suberror?: string;
}

/** thrown by the identity services; controllers answer it from the table */
export class IdentityError extends Error {
  readonly entry: IdentityErrorEntry;

  constructor(
    readonly key: IdentityErrorKey,
    readonly params: Readonly<Record<string, string>> = {},
  ) {
    const entry: IdentityErrorEntry = IDENTITY_ERRORS[key];
    super(`AADSTS${entry.code}: ${fillPlaceholders(entry.description, params)}`);
    this.entry = entry;
  }

  get status(): number {
    return this.entry.status;
  }

  body(now: Date = new Date(), correlationId?: string): AadErrorBody {
    return aadErrorBody(this.entry, this.params, now, correlationId);
  }
}

/** `2016-01-09 02:02:12Z`, the form AAD uses in `timestamp` and in the description's Timestamp line */
export function aadTimestamp(now: Date): string {
  return `${now.toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

export function fillPlaceholders(text: string, params: Readonly<Record<string, string>>): string {
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => params[name] ?? whole);
}

/**
 * The body exactly as AAD sends it: the description carries the trace and correlation ids and the timestamp
 * on `\r\n`-separated lines after the text. `correlationId` echoes the client's `client-request-id` as AAD does.
 */
export function aadErrorBody(
  entry: IdentityErrorEntry,
  params: Readonly<Record<string, string>> = {},
  now: Date = new Date(),
  correlationId: string = randomUUID(),
): AadErrorBody {
  const traceId = randomUUID();
  const timestamp = aadTimestamp(now);
  const text = fillPlaceholders(entry.description, params);
  return {
    error: entry.error,
    error_description: `AADSTS${entry.code}: ${text}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
    error_codes: [entry.code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${entry.code}`,
    ...(entry.suberror ? { suberror: entry.suberror } : {}),
  };
}
