/**
 * Key builders. Everything about one account shares the hash tag `{acct:<id>}` so it lands in one slot:
 * multi-key commands, MULTI and Lua on an account's keys are then legal in a Redis Cluster.
 */
export const accountTag = (accountId: string): string => `{acct:${accountId}}`;

export const CacheKeys = {
  /** Bumped on every committed write batch; query-cache keys embed it, so a write makes stale entries unreachable. */
  accountVersion: (accountId: string) => `${accountTag(accountId)}:v`,
  /**
   * The WAL position (bytes, decimal) after the account's last recorded write: set with the version, in the same
   * Lua call, so a reader that sees a version also sees a watermark at least as new (read-your-writes, issue 21).
   */
  accountWal: (accountId: string) => `${accountTag(accountId)}:wal`,
  query: (accountId: string, version: number, queryHash: string) =>
    `${accountTag(accountId)}:q:${version}:${queryHash}`,
  /** purposes in use: `token` (refresh), `mailbox` (any write to the mirror), `subscription` (create/renew) */
  accountLock: (accountId: string, purpose: 'token' | 'mailbox' | 'subscription' | (string & {})) =>
    `${accountTag(accountId)}:lock:${purpose}`,
  oauthState: (state: string) => `oauth:state:{${state}}`,
  /** a one-time code sent by mail (its HMAC, expiry, tries): `purpose` sign-in or verify-email, `subject` hashed */
  oneTimeCode: (purpose: string, subject: string) => `otc:{${purpose}:${subject}}`,
  rateLimit: (scope: string, subject: string) => `rl:{${scope}:${subject}}`,
  /**
   * The Ops API's record that a dead letter was replayed. One hash tag for all of them, so a page of dead letters
   * is one MGET; the message's timestamp is part of the key, so a recreated topic's reused offsets never match.
   */
  deadLetterReplay: (topic: string, partition: number, offset: string, timestampMs: string) =>
    `ops:{dlq-replays}:${topic}:${partition}:${offset}:${timestampMs}`,
} as const;
