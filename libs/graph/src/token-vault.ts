import { Injectable } from '@nestjs/common';
import type { Cluster } from 'ioredis';
import type { EntityManager } from 'typeorm';
import { CacheKeys } from '@email-core/cache';
import type { TokenCipher } from '@email-core/crypto';
import type {
  MailAccountTokensRepository,
  SealedTokenColumns,
  StoredAccountTokens,
} from '@email-core/database';
import { RedisLock } from '@email-core/cache';
import {
  AccountTokensNotFoundError,
  ReauthRequiredError,
  TokenRefreshTimeoutError,
  type TokenSet,
} from './types';

export interface TokenVaultOptions {
  /** a stored access token is used while it has more than this left (default 5 min); otherwise it is refreshed */
  refreshSkewMs: number;
  /** a token another process just refreshed is accepted when it has at least this left (default 60 s) */
  minFreshMs: number;
  /** the refresh lock's TTL: how long a crashed holder blocks the others (default 30 s) */
  lockTtlMs: number;
  /** how long a caller waits for another process's refresh before giving up (default 30 s) */
  lockWaitMs: number;
  /** how often a waiting caller re-reads Postgres (default 150 ms) */
  pollIntervalMs: number;
  /** decrypted access tokens kept in memory, least recently used dropped first (default 1,000 accounts) */
  memoryCacheSize: number;
}

export const DEFAULT_TOKEN_VAULT_OPTIONS: TokenVaultOptions = {
  refreshSkewMs: 5 * 60_000,
  minFreshMs: 60_000,
  lockTtlMs: 30_000,
  lockWaitMs: 30_000,
  pollIntervalMs: 150,
  memoryCacheSize: 1000,
};

/** What the vault needs from the identity platform (OutlookAuthClient; tests may wrap it). */
export interface TokenRefresher {
  refresh(refreshToken: string): Promise<TokenSet>;
}

/** Token columns as sealed for an account that may no longer exist (each may be missing). */
export interface UnlinkedSealedTokens {
  keyId: string | null;
  accessTokenEnc: string | null;
  accessTokenExpiresAt: Date | null;
  refreshTokenEnc: string | null;
}

export interface ReauthRequiredEvent {
  accountId: string;
  userId: string;
  reason: string;
  aadCode?: string;
}

/**
 * Called inside the transaction that moved an account to `reauth_required`, exactly once per transition
 * (e.g. to append an `account.status` event to the outbox, so the user is told).
 */
export type ReauthRequiredListener = (manager: EntityManager, event: ReauthRequiredEvent) => Promise<void>;

type TokenField = 'access_token' | 'refresh_token';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * OAuth tokens of linked mailboxes: encrypted at rest (AES-256-GCM via TokenCipher, bound to the account and the
 * column, key id in `token_key_id`), decrypted only in memory, refreshed ahead of expiry.
 *
 * A refresh happens once per account across all processes: the caller that takes the Redis lock
 * `{acct:<id>}:lock:token` re-reads the row, refreshes, and stores the new access token and the rotated refresh
 * token in one UPDATE guarded by `token_version`; the others poll Postgres until the new version appears.
 * A dead refresh token moves the account to `reauth_required` (its mail stays) and raises `ReauthRequiredError`.
 */
@Injectable()
export class TokenVault {
  private readonly options: TokenVaultOptions;
  private readonly lock: RedisLock;
  private readonly memory = new Map<string, { token: string; expiresAt: number; version: number }>();
  private readonly inflight = new Map<string, Promise<string>>();
  private readonly listeners: ReauthRequiredListener[] = [];

  constructor(
    private readonly repo: MailAccountTokensRepository,
    redis: Cluster,
    private readonly auth: TokenRefresher,
    private readonly cipher: TokenCipher,
    options: Partial<TokenVaultOptions> = {},
  ) {
    this.options = { ...DEFAULT_TOKEN_VAULT_OPTIONS, ...options };
    this.lock = new RedisLock(redis);
  }

  /** Registers a listener for the transition to `reauth_required` (see `ReauthRequiredListener`). */
  onReauthRequired(listener: ReauthRequiredListener): void {
    this.listeners.push(listener);
  }

  /** Encrypts a token set into the `mail_accounts` token columns of `accountId`. */
  seal(accountId: string, tokens: TokenSet): SealedTokenColumns {
    const access = this.cipher.seal(tokens.accessToken, aad(accountId, 'access_token'));
    const refresh = this.cipher.seal(tokens.refreshToken, aad(accountId, 'refresh_token'));
    return {
      keyId: access.keyId,
      accessTokenEnc: access.data,
      accessTokenExpiresAt: tokens.accessTokenExpiresAt,
      refreshTokenEnc: refresh.data,
    };
  }

  /**
   * Stores the tokens of a newly linked (or re-linked) account inside the caller's transaction: the
   * `mail_accounts` row must exist (insert it first, in the same transaction). A re-linked account in
   * `reauth_required` goes back to `syncing`.
   */
  async saveInitial(manager: EntityManager, accountId: string, tokens: TokenSet): Promise<void> {
    const version = await this.repo.saveTokens(manager, accountId, this.seal(accountId, tokens), null);
    if (version === null) throw new AccountTokensNotFoundError(accountId);
    this.memory.delete(accountId);
  }

  /**
   * A Graph access token for the account, valid for more than `refreshSkewMs` when possible. `forceRefresh`
   * (after Graph answered 401) skips the stored token unless another process has already replaced it.
   * Raises `ReauthRequiredError` (the account is or now becomes `reauth_required`),
   * `AccountTokensNotFoundError`, `TokenRefreshTimeoutError`, or `OutlookAuthError` (identity platform trouble).
   */
  async getAccessToken(accountId: string, opts: { forceRefresh?: boolean } = {}): Promise<string> {
    const cached = this.memory.get(accountId);
    if (!opts.forceRefresh && cached && cached.expiresAt - Date.now() > this.options.refreshSkewMs) {
      return cached.token;
    }
    this.memory.delete(accountId);
    const row = await this.loadUsable(accountId);
    if (opts.forceRefresh) {
      if (cached && row.tokenVersion !== cached.version && this.validFor(row, this.options.minFreshMs)) {
        return this.remember(row);
      }
    } else if (this.validFor(row, this.options.refreshSkewMs)) {
      return this.remember(row);
    }
    return this.singleFlight(accountId, () => this.refreshUnderLock(accountId, row.tokenVersion));
  }

  /**
   * An access token from sealed token columns that outlived their account row (a subscription left to delete
   * at Microsoft after unlinking): the sealed access token while it has more than `minFreshMs` left, otherwise
   * (or with `forceRefresh`) a refresh with the sealed refresh token. Nothing is stored and no account changes
   * status. Raises `ReauthRequiredError` when the refresh token is dead, `AccountTokensNotFoundError` when
   * there is nothing to decrypt.
   */
  async accessTokenFromSealed(
    accountId: string,
    sealed: UnlinkedSealedTokens,
    opts: { forceRefresh?: boolean } = {},
  ): Promise<string> {
    if (!sealed.keyId) throw new AccountTokensNotFoundError(accountId);
    const access = sealed.accessTokenEnc;
    const left = (sealed.accessTokenExpiresAt?.getTime() ?? 0) - Date.now();
    if (access && left > this.options.minFreshMs && !opts.forceRefresh) {
      return this.cipher.open({ keyId: sealed.keyId, data: access }, aad(accountId, 'access_token'));
    }
    if (!sealed.refreshTokenEnc) throw new AccountTokensNotFoundError(accountId);
    const refreshToken = this.cipher.open(
      { keyId: sealed.keyId, data: sealed.refreshTokenEnc },
      aad(accountId, 'refresh_token'),
    );
    return (await this.auth.refresh(refreshToken)).accessToken;
  }

  /** Drops what this process holds in memory for the account (after unlinking it). */
  forget(accountId: string): void {
    this.memory.delete(accountId);
  }

  private singleFlight(accountId: string, work: () => Promise<string>): Promise<string> {
    const running = this.inflight.get(accountId);
    if (running) return running;
    const started = work().finally(() => this.inflight.delete(accountId));
    this.inflight.set(accountId, started);
    return started;
  }

  private async refreshUnderLock(accountId: string, seenVersion: number): Promise<string> {
    const key = CacheKeys.accountLock(accountId, 'token');
    const deadline = Date.now() + this.options.lockWaitMs;
    for (;;) {
      const held = await this.lock.tryAcquire(key, this.options.lockTtlMs);
      if (held) {
        try {
          return await this.refreshHoldingLock(accountId, seenVersion);
        } finally {
          await held.release().catch(() => false);
        }
      }
      await sleep(this.options.pollIntervalMs);
      const row = await this.loadUsable(accountId);
      if (row.tokenVersion !== seenVersion && this.validFor(row, this.options.minFreshMs))
        return this.remember(row);
      if (Date.now() >= deadline) throw new TokenRefreshTimeoutError(accountId);
    }
  }

  private async refreshHoldingLock(accountId: string, seenVersion: number): Promise<string> {
    // another process may have refreshed between our read and taking the lock
    const row = await this.loadUsable(accountId);
    if (row.tokenVersion !== seenVersion && this.validFor(row, this.options.minFreshMs))
      return this.remember(row);
    const refreshToken = this.open(row, 'refresh_token');
    let tokens: TokenSet;
    try {
      tokens = await this.auth.refresh(refreshToken);
    } catch (err) {
      if (err instanceof ReauthRequiredError) await this.markReauth(row, err);
      throw err;
    }
    const version = await this.repo.saveTokens(
      undefined,
      accountId,
      this.seal(accountId, tokens),
      row.tokenVersion,
    );
    // null: the row changed under us (a re-link, or our lock outlived its TTL); its tokens win, ours still work
    if (version !== null) {
      this.put(accountId, {
        token: tokens.accessToken,
        expiresAt: tokens.accessTokenExpiresAt.getTime(),
        version,
      });
    }
    return tokens.accessToken;
  }

  private async markReauth(row: StoredAccountTokens, err: ReauthRequiredError): Promise<void> {
    this.memory.delete(row.accountId);
    const listeners = [...this.listeners];
    await this.repo.markReauthRequired(row.accountId, err.reason, {
      expectedVersion: row.tokenVersion,
      inTransaction:
        listeners.length === 0
          ? undefined
          : async (manager, account) => {
              for (const listener of listeners) {
                await listener(manager, { ...account, reason: err.reason, aadCode: err.aadCode });
              }
            },
    });
  }

  private async loadUsable(accountId: string): Promise<StoredAccountTokens> {
    const row = await this.repo.loadTokens(accountId);
    if (!row || !row.keyId || !row.refreshTokenEnc) throw new AccountTokensNotFoundError(accountId);
    if (row.status === 'reauth_required') {
      throw new ReauthRequiredError('the account has to be linked again');
    }
    return row;
  }

  private validFor(row: StoredAccountTokens, ms: number): boolean {
    return (
      row.accessTokenEnc !== null &&
      row.accessTokenExpiresAt !== null &&
      row.accessTokenExpiresAt.getTime() - Date.now() > ms
    );
  }

  private remember(row: StoredAccountTokens): string {
    const token = this.open(row, 'access_token');
    this.put(row.accountId, {
      token,
      expiresAt: row.accessTokenExpiresAt?.getTime() ?? 0,
      version: row.tokenVersion,
    });
    return token;
  }

  private put(accountId: string, entry: { token: string; expiresAt: number; version: number }): void {
    this.memory.delete(accountId);
    this.memory.set(accountId, entry);
    while (this.memory.size > this.options.memoryCacheSize) {
      const oldest = this.memory.keys().next();
      if (oldest.done) break;
      this.memory.delete(oldest.value);
    }
  }

  private open(row: StoredAccountTokens, field: TokenField): string {
    const data = field === 'access_token' ? row.accessTokenEnc : row.refreshTokenEnc;
    if (!row.keyId || !data) throw new AccountTokensNotFoundError(row.accountId);
    return this.cipher.open({ keyId: row.keyId, data }, aad(row.accountId, field));
  }
}

/** Binds a ciphertext to its account and column, so it cannot be moved to another row or field. */
function aad(accountId: string, field: TokenField): string {
  return `mail_accounts:${accountId}:${field}`;
}
