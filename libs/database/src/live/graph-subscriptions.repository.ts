import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';

/** One account's Graph subscription as stored: never the clientState itself, only its SHA-256 hash (hex). */
export interface StoredSubscription {
  accountId: string;
  subscriptionId: string;
  clientStateHash: string;
  resource: string;
  expiresAt: Date;
  createdAt: Date;
  renewedAt: Date | null;
}

/** What the webhook needs to accept a notification: the owning account and the clientState hash. */
export interface SubscriptionRoute {
  accountId: string;
  userId: string;
  clientStateHash: string;
}

/** A subscription whose account was unlinked, with that account's sealed tokens (ciphertexts only). */
export interface SubscriptionRemoval {
  id: string;
  accountId: string;
  subscriptionId: string;
  keyId: string | null;
  accessTokenEnc: string | null;
  accessTokenExpiresAt: Date | null;
  refreshTokenEnc: string | null;
}

/** A subscription with its mailbox, for operators (no clientState hash). */
export interface SubscriptionOverview {
  accountId: string;
  mailboxEmail: string;
  subscriptionId: string;
  resource: string;
  expiresAt: Date;
  createdAt: Date;
  renewedAt: Date | null;
}

interface SubscriptionRow {
  account_id: string;
  subscription_id: string;
  client_state_hash: string;
  resource: string;
  expires_at: Date;
  created_at: Date;
  renewed_at: Date | null;
}

const toSubscription = (r: SubscriptionRow): StoredSubscription => ({
  accountId: r.account_id,
  subscriptionId: r.subscription_id,
  clientStateHash: r.client_state_hash,
  resource: r.resource,
  expiresAt: r.expires_at,
  createdAt: r.created_at,
  renewedAt: r.renewed_at,
});

/**
 * `graph_subscriptions` (at most one per account: the primary key is the account) and `subscription_removals`.
 * Every statement ends in a SELECT, because TypeORM answers a bare UPDATE/DELETE with `[rows, count]`.
 */
export class GraphSubscriptionsRepository {
  constructor(private readonly dataSource: DataSource) {}

  private q(manager?: EntityManager): DataSource | EntityManager {
    return manager ?? this.dataSource;
  }

  async findByAccount(accountId: string, manager?: EntityManager): Promise<StoredSubscription | null> {
    const rows: SubscriptionRow[] = await this.q(manager).query(
      `SELECT * FROM graph_subscriptions WHERE account_id = $1`,
      [accountId],
    );
    return rows[0] ? toSubscription(rows[0]) : null;
  }

  /** The webhook's lookup: null for a subscription we do not know (its notifications are ignored). */
  async findRoute(subscriptionId: string): Promise<SubscriptionRoute | null> {
    const rows: Array<{ account_id: string; user_id: string; client_state_hash: string }> =
      await this.dataSource.query(
        `SELECT s.account_id, a.user_id, s.client_state_hash
           FROM graph_subscriptions s JOIN mail_accounts a ON a.id = s.account_id
          WHERE s.subscription_id = $1`,
        [subscriptionId],
      );
    const r = rows[0];
    return r ? { accountId: r.account_id, userId: r.user_id, clientStateHash: r.client_state_hash } : null;
  }

  /**
   * The webhook's lookup for a whole POST: the routes of those of `subscriptionIds` we know, in one query
   * (an id absent from the map is unknown), so a batch of made-up ids costs one round trip, not one each.
   */
  async findRoutes(subscriptionIds: readonly string[]): Promise<Map<string, SubscriptionRoute>> {
    const found = new Map<string, SubscriptionRoute>();
    if (subscriptionIds.length === 0) return found;
    const rows: Array<{
      subscription_id: string;
      account_id: string;
      user_id: string;
      client_state_hash: string;
    }> = await this.dataSource.query(
      `SELECT s.subscription_id, s.account_id, a.user_id, s.client_state_hash
         FROM graph_subscriptions s JOIN mail_accounts a ON a.id = s.account_id
        WHERE s.subscription_id = ANY($1::text[])`,
      [subscriptionIds],
    );
    for (const r of rows) {
      found.set(r.subscription_id, {
        accountId: r.account_id,
        userId: r.user_id,
        clientStateHash: r.client_state_hash,
      });
    }
    return found;
  }

  /**
   * Stores the account's subscription, replacing the one it had (the caller deleted or lost that one at
   * Microsoft). Returns false when the account no longer exists: the caller must then delete what it created.
   *
   * The account row is read FOR KEY SHARE, which waits for an unlink holding it (`lockForUnlink`) and then
   * finds it gone; an unlink that locks after this commits sees this row in its removal bookkeeping. So a
   * subscription is either captured by the unlink's `addRemoval` or refused here, never cascade-deleted unseen.
   */
  async save(
    sub: Omit<StoredSubscription, 'createdAt' | 'renewedAt'>,
    manager?: EntityManager,
  ): Promise<boolean> {
    const rows: unknown[] = await this.q(manager).query(
      `WITH account AS (SELECT id FROM mail_accounts WHERE id = $1 FOR KEY SHARE)
       INSERT INTO graph_subscriptions (account_id, subscription_id, client_state_hash, resource, expires_at)
       SELECT account.id, $2, $3, $4, $5 FROM account
       ON CONFLICT (account_id) DO UPDATE
         SET subscription_id = EXCLUDED.subscription_id, client_state_hash = EXCLUDED.client_state_hash,
             resource = EXCLUDED.resource, expires_at = EXCLUDED.expires_at, created_at = now(), renewed_at = NULL
       RETURNING 1`,
      [sub.accountId, sub.subscriptionId, sub.clientStateHash, sub.resource, sub.expiresAt],
    );
    return rows.length > 0;
  }

  /** After a successful PATCH: the new expiry. False when the row is gone or holds another subscription. */
  async renewed(accountId: string, subscriptionId: string, expiresAt: Date): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `WITH r AS (
         UPDATE graph_subscriptions SET expires_at = $3, renewed_at = now()
          WHERE account_id = $1 AND subscription_id = $2 RETURNING 1)
       SELECT 1 FROM r`,
      [accountId, subscriptionId, expiresAt],
    );
    return rows.length > 0;
  }

  /** Forgets the account's subscription if it is still `subscriptionId` (e.g. Microsoft removed it). */
  async remove(accountId: string, subscriptionId: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `WITH d AS (DELETE FROM graph_subscriptions WHERE account_id = $1 AND subscription_id = $2 RETURNING 1)
       SELECT 1 FROM d`,
      [accountId, subscriptionId],
    );
    return rows.length > 0;
  }

  /**
   * Subscriptions expiring before `before`, soonest first: the renewal job's work list, a page at a time (`after`:
   * the last row of the previous page, so rows renewed or left behind meanwhile are neither repeated nor skipped).
   */
  async expiringBefore(
    before: Date,
    limit: number,
    after?: { expiresAt: Date; accountId: string },
  ): Promise<StoredSubscription[]> {
    const rows: SubscriptionRow[] = after
      ? await this.dataSource.query(
          `SELECT * FROM graph_subscriptions WHERE expires_at < $1 AND (expires_at, account_id) > ($3, $4)
            ORDER BY expires_at, account_id LIMIT $2`,
          [before, limit, after.expiresAt, after.accountId],
        )
      : await this.dataSource.query(
          `SELECT * FROM graph_subscriptions WHERE expires_at < $1 ORDER BY expires_at, account_id LIMIT $2`,
          [before, limit],
        );
    return rows.map(toSubscription);
  }

  /** Every subscription with its mailbox's address, soonest expiry first (the Ops page), and how many there are. */
  async listWithMailboxes(limit: number): Promise<{ total: number; items: SubscriptionOverview[] }> {
    const rows: Array<{
      account_id: string;
      email: string;
      subscription_id: string;
      resource: string;
      expires_at: Date;
      created_at: Date;
      renewed_at: Date | null;
      total: string;
    }> = await this.dataSource.query(
      `SELECT s.account_id, a.email, s.subscription_id, s.resource, s.expires_at, s.created_at, s.renewed_at,
              count(*) OVER () AS total
         FROM graph_subscriptions s JOIN mail_accounts a ON a.id = s.account_id
        ORDER BY s.expires_at, s.account_id
        LIMIT $1`,
      [limit],
    );
    const total = rows[0] ? Number(rows[0].total) : 0;
    return {
      total,
      items: rows.map((r) => ({
        accountId: r.account_id,
        mailboxEmail: r.email,
        subscriptionId: r.subscription_id,
        resource: r.resource,
        expiresAt: r.expires_at,
        createdAt: r.created_at,
        renewedAt: r.renewed_at,
      })),
    };
  }

  /**
   * Synced accounts of `providers` (those watched through subscriptions) without a subscription (a lost
   * `subscription.ensure`, or one removed and not recreated).
   */
  async syncedWithout(limit: number, providers: readonly string[]): Promise<string[]> {
    if (providers.length === 0) return [];
    const rows: Array<{ id: string }> = await this.dataSource.query(
      `SELECT a.id FROM mail_accounts a
        WHERE a.status = 'synced' AND a.provider = ANY($2::text[])
          AND NOT EXISTS (SELECT 1 FROM graph_subscriptions s WHERE s.account_id = a.id)
        ORDER BY a.sync_completed_at NULLS FIRST
        LIMIT $1`,
      [limit, providers],
    );
    return rows.map((r) => r.id);
  }

  /**
   * Unlinking: inside the transaction that deletes the account, after `lockForUnlink`, keeps what deleting its
   * subscription at Microsoft needs (the id and the account's sealed tokens). Returns the removal's id, or null
   * when the account has no subscription.
   */
  async addRemoval(manager: EntityManager, accountId: string): Promise<string | null> {
    const id = randomUUID();
    const rows: Array<{ id: string }> = await manager.query(
      `INSERT INTO subscription_removals
         (id, account_id, subscription_id, token_key_id, access_token_enc, access_token_expires_at, refresh_token_enc)
       SELECT $2, a.id, s.subscription_id, a.token_key_id, a.access_token_enc, a.access_token_expires_at,
              a.refresh_token_enc
         FROM graph_subscriptions s JOIN mail_accounts a ON a.id = s.account_id
        WHERE s.account_id = $1
       RETURNING id`,
      [accountId, id],
    );
    return rows[0]?.id ?? null;
  }

  async findRemoval(id: string): Promise<SubscriptionRemoval | null> {
    const rows: Array<{
      id: string;
      account_id: string;
      subscription_id: string;
      token_key_id: string | null;
      access_token_enc: string | null;
      access_token_expires_at: Date | null;
      refresh_token_enc: string | null;
    }> = await this.dataSource.query(`SELECT * FROM subscription_removals WHERE id = $1`, [id]);
    const r = rows[0];
    return r
      ? {
          id: r.id,
          accountId: r.account_id,
          subscriptionId: r.subscription_id,
          keyId: r.token_key_id,
          accessTokenEnc: r.access_token_enc,
          accessTokenExpiresAt: r.access_token_expires_at,
          refreshTokenEnc: r.refresh_token_enc,
        }
      : null;
  }

  /** The subscription is gone at Microsoft (or never will be reachable): drop the sealed tokens with it. */
  async removalDone(id: string): Promise<void> {
    await this.dataSource.query(
      `WITH d AS (DELETE FROM subscription_removals WHERE id = $1 RETURNING 1) SELECT 1 FROM d`,
      [id],
    );
  }
}
