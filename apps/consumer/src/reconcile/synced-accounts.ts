import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** The accounts a reconciliation covers, a page at a time. */
export interface SyncedAccountsPort {
  /** ids of synced accounts (linked, first sync complete, not waiting for re-authorization) after `afterId` */
  page(afterId: string | null, limit: number): Promise<string[]>;
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
}

export const SYNCED_ACCOUNTS = Symbol('SYNCED_ACCOUNTS');
