/** the signed-in user, as the access token names them */
export interface AuthUser {
  id: string;
  email: string;
}

/** claims of our own access tokens (HS256, 15 minutes) */
export interface AccessTokenClaims {
  sub: string;
  email: string;
  typ: 'access';
}
