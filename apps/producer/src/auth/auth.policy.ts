/** Lifetimes and limits of local sign-in, in one place. */
export const AuthPolicy = {
  /** access tokens are short-lived: a stolen one is useful for minutes, and nothing revokes it earlier */
  accessTokenTtlSeconds: 15 * 60,
  /** each rotation restarts it, so a session lives while it is used at least once a month */
  refreshTokenTtlMs: 30 * 24 * 3600 * 1000,
  /** every sign-in attempt from one address, whatever its outcome */
  signInPerIp: { limit: 20, windowMs: 60 * 1000 },
  /**
   * Guesses against one email (known or not) from one client address: 5 free, then the address waits 1 s, 2 s,
   * 4 s... (at most 15 min) before its next attempt for that email; a success from it clears its count. Another
   * address is not affected, so nobody can lock the owner out. Backstop against many addresses: past 100
   * attempts on one email in an hour, the addresses that already failed on it wait for the hour to end, while an
   * address without a failure (the owner's, usually) still gets through.
   */
  signInBackoff: {
    freeAttempts: 5,
    baseDelayMs: 1000,
    maxDelayMs: 15 * 60 * 1000,
    memoryMs: 24 * 3600 * 1000,
    ceiling: 100,
    ceilingWindowMs: 60 * 60 * 1000,
  },
  /** sign-in code requests: per address and per client address (counts from ProducerConfig.codes) */
  codeRequestWindowMs: 15 * 60 * 1000,
  /** code verifications from one client address, whatever the address or code */
  codeVerifyPerIp: { limit: 30, windowMs: 60 * 1000 },
  /** verification mails a signed-in user may ask for again */
  verifyEmailResendPerUser: { limit: 3, windowMs: 15 * 60 * 1000 },
  /** each sign-up costs an argon2 hash and a row */
  signUpPerIp: { limit: 20, windowMs: 60 * 1000 },
} as const;
