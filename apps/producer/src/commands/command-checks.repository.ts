import type { DataSource } from 'typeorm';

/** What an existing command id already stands for. */
export interface CommandFingerprint {
  userId: string;
  requestHash: string;
}

/**
 * The reads `POST /commands` validates against: the account's mirror (messages, folders) and the command ids
 * already taken. Read-only; the command itself is written by MailCommandsRepository.
 */
export class CommandChecksRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Who submitted command `id` and with which request hash; null when the id is new. */
  async fingerprint(id: string): Promise<CommandFingerprint | null> {
    const rows: Array<{ user_id: string; request_hash: string }> = await this.dataSource.query(
      `SELECT user_id, request_hash FROM mail_commands WHERE id = $1`,
      [id],
    );
    const r = rows[0];
    return r ? { userId: r.user_id, requestHash: r.request_hash } : null;
  }

  /** The ids among `messageIds` that are not messages of the account's mirror (in the order given). */
  async missingMessages(accountId: string, messageIds: string[]): Promise<string[]> {
    if (messageIds.length === 0) return [];
    const rows: Array<{ remote_id: string }> = await this.dataSource.query(
      `SELECT remote_id FROM messages WHERE account_id = $1 AND remote_id = ANY($2::text[])`,
      [accountId, messageIds],
    );
    const found = new Set(rows.map((r) => r.remote_id));
    return messageIds.filter((id) => !found.has(id));
  }

  /**
   * The Graph id of one of the account's folders, named by its id or by its well-known name (`archive`,
   * `deleteditems`, ...); null when the account has no such folder.
   */
  async folderId(accountId: string, idOrWellKnownName: string): Promise<string | null> {
    const rows: Array<{ remote_id: string }> = await this.dataSource.query(
      `SELECT remote_id FROM mail_folders
        WHERE account_id = $1 AND (remote_id = $2 OR well_known_name = lower($2))
        ORDER BY (remote_id = $2) DESC
        LIMIT 1`,
      [accountId, idOrWellKnownName],
    );
    return rows[0]?.remote_id ?? null;
  }
}
