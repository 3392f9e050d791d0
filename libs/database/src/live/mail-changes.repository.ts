import type { DataSource, EntityManager } from 'typeorm';
import type { MailChange } from '@email-core/contracts';
import { prepared } from '../prepared';

/**
 * The account's sequence moved and the changes numbered after it, in one statement (the account's row lock, taken
 * by the UPDATE, keeps two writers' numbers apart until commit).
 */
const RECORD_SQL = prepared(`WITH s AS (
         UPDATE mail_accounts SET change_seq = change_seq + cardinality($2::text[]) WHERE id = $1
         RETURNING change_seq
       ),
       ins AS (
         INSERT INTO mail_changes (account_id, seq, kind, message_remote_id, folder_remote_id)
         SELECT $1, s.change_seq - cardinality($2::text[]) + c.n, c.kind, c.message_id, c.folder_id
         FROM s, unnest($2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS c(kind, message_id, folder_id, n)
       )
       SELECT change_seq AS last FROM s`);

export type NewMailChange = Omit<MailChange, 'seq'>;

export interface ChangesSince {
  /** the changes after `since`, oldest first, at most `limit` */
  items: Array<MailChange & { at: string }>;
  /** the account's current change sequence */
  latestSeq: number;
  hasMore: boolean;
}

/**
 * The per-account change sequence (`mail_accounts.change_seq`) and its log (`mail_changes`). `record` runs in
 * the transaction that writes the changes it numbers, so the log and the mirror commit together; the row lock
 * it takes on the account serializes numbering, so sequences are gapless per account.
 */
export class MailChangesRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Numbers `changes` and logs them; returns them with their seq (empty in, empty out, nothing written). */
  async record(manager: EntityManager, accountId: string, changes: NewMailChange[]): Promise<MailChange[]> {
    if (changes.length === 0) return [];
    const rows: Array<{ last: string }> = await manager.query(RECORD_SQL, [
      accountId,
      changes.map((c) => c.kind),
      changes.map((c) => c.messageId),
      changes.map((c) => c.folderId),
    ]);
    const lastRow = rows[0];
    if (!lastRow) return [];
    const last = Number(lastRow.last);
    const first = last - changes.length + 1;
    const numbered = changes.map((c, i) => ({ ...c, seq: first + i }));
    return numbered;
  }

  /** The account's current change sequence (0 before any live change); null when there is no such account. */
  async latestSeq(accountId: string): Promise<number | null> {
    const rows: Array<{ change_seq: string }> = await this.dataSource.query(
      `SELECT change_seq FROM mail_accounts WHERE id = $1`,
      [accountId],
    );
    return rows[0] ? Number(rows[0].change_seq) : null;
  }

  /**
   * Changes after `since`. Returns null when the log no longer reaches back to `since` (older changes were
   * pruned): the client must reload instead of catching up.
   */
  async since(accountId: string, since: number, limit: number): Promise<ChangesSince | null> {
    const latest = await this.latestSeq(accountId);
    if (latest === null) return { items: [], latestSeq: 0, hasMore: false };
    if (since >= latest) return { items: [], latestSeq: latest, hasMore: false };
    const rows: Array<{
      seq: string;
      kind: MailChange['kind'];
      message_remote_id: string;
      folder_remote_id: string;
      at: Date;
    }> = await this.dataSource.query(
      `SELECT seq, kind, message_remote_id, folder_remote_id, at FROM mail_changes
          WHERE account_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
      [accountId, since, limit + 1],
    );
    const first = rows[0];
    if (!first || Number(first.seq) !== since + 1) return null;
    const items = rows.slice(0, limit).map((r) => ({
      seq: Number(r.seq),
      kind: r.kind,
      messageId: r.message_remote_id,
      folderId: r.folder_remote_id,
      at: r.at.toISOString(),
    }));
    return { items, latestSeq: latest, hasMore: rows.length > limit };
  }

  /** Drops log entries older than `olderThan` (the catch-up window); returns how many. */
  async prune(olderThan: Date): Promise<number> {
    const rows: Array<{ n: number }> = await this.dataSource.query(
      `WITH d AS (DELETE FROM mail_changes WHERE at < $1 RETURNING 1) SELECT count(*)::int AS n FROM d`,
      [olderThan],
    );
    return rows[0]?.n ?? 0;
  }
}
