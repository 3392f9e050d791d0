import type { DataSource, EntityManager } from 'typeorm';

/** The token columns of one `mail_accounts` row, as stored (ciphertexts, never plaintext). */
export interface StoredAccountTokens {
  accountId: string;
  userId: string;
  status: 'syncing' | 'synced' | 'reauth_required' | 'error';
  /** the encryption key id both ciphertexts were sealed with */
  keyId: string | null;
  accessTokenEnc: string | null;
  accessTokenExpiresAt: Date | null;
  refreshTokenEnc: string | null;
  /** bumped on every token write; the optimistic guard of `saveTokens` */
  tokenVersion: number;
}

/** What a token write stores: both ciphertexts sealed with the key `keyId`. */
export interface SealedTokenColumns {
  keyId: string;
  accessTokenEnc: string;
  accessTokenExpiresAt: Date;
  refreshTokenEnc: string;
}

interface TokenRow {
  id: string;
  user_id: string;
  status: StoredAccountTokens['status'];
  token_key_id: string | null;
  access_token_enc: string | null;
  access_token_expires_at: Date | null;
  refresh_token_enc: string | null;
  token_version: number;
}

/**
 * The OAuth token columns of `mail_accounts`, by intent. Only the token vault (libs/graph) uses it; the rest of
 * the product never reads these columns. Handlers never see a raw TypeORM repository.
 */
export class MailAccountTokensRepository {
  constructor(private readonly dataSource: DataSource) {}

  async loadTokens(accountId: string, manager?: EntityManager): Promise<StoredAccountTokens | null> {
    const rows: TokenRow[] = await (manager ?? this.dataSource).query(
      `SELECT id, user_id, status, token_key_id, access_token_enc, access_token_expires_at, refresh_token_enc,
              token_version
         FROM mail_accounts
        WHERE id = $1`,
      [accountId],
    );
    const r = rows[0];
    if (!r) return null;
    return {
      accountId: r.id,
      userId: r.user_id,
      status: r.status,
      keyId: r.token_key_id,
      accessTokenEnc: r.access_token_enc,
      accessTokenExpiresAt: r.access_token_expires_at,
      refreshTokenEnc: r.refresh_token_enc,
      tokenVersion: Number(r.token_version),
    };
  }

  /**
   * Stores a new access and refresh token in one UPDATE and bumps `token_version`.
   * - `expectedVersion` a number: only if the row still has that version (optimistic; a refresh).
   * - `expectedVersion` null: unconditionally (linking or re-linking, typically inside the caller's transaction);
   *   an account in `reauth_required` goes back to `syncing`, since it has working tokens again.
   * Returns the new version, or null when the guard failed or the account does not exist.
   */
  async saveTokens(
    manager: EntityManager | undefined,
    accountId: string,
    sealed: SealedTokenColumns,
    expectedVersion: number | null,
  ): Promise<number | null> {
    const params: unknown[] = [
      accountId,
      sealed.keyId,
      sealed.accessTokenEnc,
      sealed.accessTokenExpiresAt,
      sealed.refreshTokenEnc,
    ];
    let sql = `UPDATE mail_accounts
                  SET token_key_id = $2, access_token_enc = $3, access_token_expires_at = $4,
                      refresh_token_enc = $5, token_version = token_version + 1, updated_at = now()`;
    if (expectedVersion === null) {
      sql += `, status = CASE WHEN status = 'reauth_required' THEN 'syncing' ELSE status END,
                status_reason = CASE WHEN status = 'reauth_required' THEN NULL ELSE status_reason END
              WHERE id = $1`;
    } else {
      params.push(expectedVersion);
      sql += ` WHERE id = $1 AND token_version = $6`;
    }
    sql += ` RETURNING token_version`;
    // TypeORM's postgres driver answers an UPDATE ... RETURNING with [rows, affectedCount]
    const result: unknown = await (manager ?? this.dataSource).query(sql, params);
    const rows = (Array.isArray(result) && Array.isArray(result[0]) ? result[0] : result) as Array<{
      token_version: number;
    }>;
    return rows[0] ? Number(rows[0].token_version) : null;
  }

  /**
   * Moves the account to `reauth_required` (its mail stays), once: answers false when it already was, or when
   * `expectedVersion` is given and the tokens changed meanwhile (a re-link won the race). `inTransaction` runs in
   * the same transaction only when the status did change, e.g. to append an `account.status` outbox row.
   */
  async markReauthRequired(
    accountId: string,
    reason: string,
    opts: {
      expectedVersion?: number;
      inTransaction?: (
        manager: EntityManager,
        account: { accountId: string; userId: string },
      ) => Promise<void>;
    } = {},
  ): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      const params: unknown[] = [accountId, reason.slice(0, 500)];
      let sql = `UPDATE mail_accounts
                    SET status = 'reauth_required', status_reason = $2, updated_at = now()
                  WHERE id = $1 AND status <> 'reauth_required'`;
      if (opts.expectedVersion !== undefined) {
        params.push(opts.expectedVersion);
        sql += ` AND token_version = $3`;
      }
      sql += ` RETURNING user_id`;
      const result: unknown = await manager.query(sql, params);
      const rows = (Array.isArray(result) && Array.isArray(result[0]) ? result[0] : result) as Array<{
        user_id: string;
      }>;
      const row = rows[0];
      if (!row) return false;
      if (opts.inTransaction) await opts.inTransaction(manager, { accountId, userId: row.user_id });
      return true;
    });
  }
}
