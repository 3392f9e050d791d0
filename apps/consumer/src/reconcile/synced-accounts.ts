import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** The accounts a reconciliation covers, a page at a time. */
export interface SyncedAccountsPort {
  /** ids of synced accounts (linked, first sync complete, not waiting for re-authorization) after `afterId` */
  page(afterId: string | null, limit: number): Promise<string[]>;
  /** how many there are now (to spread a round's pokes over its interval) */
  count(): Promise<number>;
}

/** Keyset pages over `mail_accounts` (its primary key), so a large deployment is read in bounded steps. */
@Injectable()
export class SyncedAccounts implements SyncedAccountsPort {
  constructor(private readonly dataSource: DataSource) {}

  async page(afterId: string | null, limit: number): Promise<string[]> {
    const rows: Array<{ id: string }> = await this.dataSource.query(
      `SELECT id FROM mail_accounts
        WHERE status = 'synced' AND sync_completed_at IS NOT NULL AND ($1::uuid IS NULL OR id > $1::uuid)
        ORDER BY id
        LIMIT $2`,
      [afterId, limit],
    );
    return rows.map((r) => r.id);
  }

  async count(): Promise<number> {
    const rows: Array<{ n: number }> = await this.dataSource.query(
      `SELECT count(*)::int AS n FROM mail_accounts WHERE status = 'synced' AND sync_completed_at IS NOT NULL`,
    );
    return rows[0]?.n ?? 0;
  }
}

export const SYNCED_ACCOUNTS = Symbol('SYNCED_ACCOUNTS');
