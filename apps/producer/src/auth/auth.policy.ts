/** Lifetimes and limits of local sign-in, in one place. */
export const AuthPolicy = {
  /** access tokens are short-lived: a stolen one is useful for minutes, and nothing revokes it earlier */
  accessTokenTtlSeconds: 15 * 60,
  /** each rotation restarts it, so a session lives while it is used at least once a month */
  refreshTokenTtlMs: 30 * 24 * 3600 * 1000,
  /** every sign-in attempt from one address, whatever its outcome */
  signInPerIp: { limit: 20, windowMs: 60 * 1000 },
  /** failed sign-ins for one email (known or not); a success clears it */
  signInFailuresPerAccount: { limit: 5, windowMs: 15 * 60 * 1000 },
  /** each sign-up costs an argon2 hash and a row */
  signUpPerIp: { limit: 20, windowMs: 60 * 1000 },
} as const;
