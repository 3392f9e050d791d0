/** what a valid Graph access token says: who, for which app, with which delegated scopes */
export interface AccessClaims {
  /** the signed-in mailbox (lower-case address) */
  address: string;
  userId: string;
  tenantId: string;
  /** the client id of the app the token was issued to */
  appId: string;
  /** Graph scopes, short form (`Mail.Read`, `User.Read`, ...) */
  scopes: string[];
  /** epoch seconds */
  expiresAt: number;
}

/**
 * Thrown for a missing, malformed, badly signed or expired token. The message is Graph's own text for the case
 * ("Access token is empty.", "CompactToken parsing failed with error code: 80049217",
 * "Access token has expired or is not yet valid."), answered as 401 InvalidAuthenticationToken.
 */
export class AccessTokenInvalid extends Error {}

export abstract class AccessTokenVerifier {
  abstract verify(token: string | undefined): AccessClaims;
}
