import type { MessageInput, RecipientInput } from '@email-core/database';

/**
 * The shapes the rest of the product uses to talk to Microsoft (or the emulator). Implementations live beside
 * this file; producer and consumer code depends on these names only.
 */

/** tokens as Microsoft returned them; held decrypted only in memory */
export interface TokenSet {
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
}

/** who signed in at Microsoft when an account was linked */
export interface LinkedIdentity {
  /** Graph user id (`/me` id) */
  externalUserId: string;
  email: string;
  displayName: string;
}

export interface AuthorizationRequest {
  /** where to send the browser */
  url: string;
  /** the PKCE verifier to keep (server side) until the callback */
  codeVerifier: string;
}

/** the mirror's recipient shape (libs/database), which Graph's maps onto one to one */
export type GraphRecipient = RecipientInput;

export interface GraphFolder {
  id: string;
  parentFolderId: string | null;
  displayName: string;
  wellKnownName: string | null;
  totalItemCount: number;
  unreadItemCount: number;
}

/**
 * a message as the mirror stores it (immutable ids: `Prefer: IdType="ImmutableId"`): the mail repositories' input,
 * plus the folder Graph filed it in
 */
export type GraphMessage = MessageInput & { folderId: string };

export interface DeltaPage {
  messages: GraphMessage[];
  /** immutable ids reported `@removed` from this folder */
  removedIds: string[];
  /** exactly one of nextLink / deltaLink is set */
  nextLink?: string;
  deltaLink?: string;
}

/** the refresh token was revoked, expired or is otherwise unusable: the user must sign in again */
export class ReauthRequiredError extends Error {
  constructor(
    readonly reason: string,
    readonly aadCode?: string,
  ) {
    super(`re-authorization required: ${reason}`);
  }
}

/** a folder's delta token is gone (410 SyncStateNotFound and friends): sync that folder from scratch */
export class SyncStateNotFoundError extends Error {}

/** Graph answered an error that retrying will not fix (4xx other than 429) */
export class GraphRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** `GET /me`: who the access token belongs to */
export interface GraphUser {
  id: string;
  displayName: string;
  mail: string | null;
  userPrincipalName: string;
}

/**
 * Graph stayed unavailable or throttled after the bounded retries (429/503/504, a timeout or a network failure).
 * Retrying later can fix it; `retryAfterMs` is Graph's own advice when it gave one.
 */
export class GraphTransientError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'GraphTransientError';
  }
}

/**
 * The identity platform refused a request for a reason other than an unusable refresh token: a bad or reused
 * authorization code (`invalid_grant` at redemption), a wrong client secret, an unknown scope, or no answer.
 * The message names the OAuth error and AADSTS code only, never a token or a code.
 */
export class OutlookAuthError extends Error {
  constructor(
    readonly code: string,
    readonly aadCode?: string,
  ) {
    super(`Microsoft identity platform refused the request: ${code}${aadCode ? ` (AADSTS${aadCode})` : ''}`);
    this.name = 'OutlookAuthError';
  }
}

/** no mail account with that id (or it has no tokens yet) */
export class AccountTokensNotFoundError extends Error {
  constructor(readonly accountId: string) {
    super(`mail account ${accountId} has no stored tokens`);
    this.name = 'AccountTokensNotFoundError';
  }
}

/** another process held the token-refresh lock and no fresh token appeared in time */
export class TokenRefreshTimeoutError extends Error {
  constructor(readonly accountId: string) {
    super(`timed out waiting for the token refresh of mail account ${accountId}`);
    this.name = 'TokenRefreshTimeoutError';
  }
}
