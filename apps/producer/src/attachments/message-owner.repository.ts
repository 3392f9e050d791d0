import type { DataSource } from 'typeorm';

/** Which of a user's accounts holds a message (by Graph immutable id), read from the mirror. */
export class MessageOwnerRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** The account id, or null when no account of the user has the message (someone else's reads the same). */
  async accountOf(userId: string, messageId: string): Promise<string | null> {
    const rows: Array<{ account_id: string }> = await this.dataSource.query(
      `SELECT m.account_id
         FROM messages m
         JOIN mail_accounts a ON a.id = m.account_id
        WHERE a.user_id = $1 AND m.remote_id = $2
        LIMIT 1`,
      [userId, messageId],
    );
    return rows[0]?.account_id ?? null;
  }
}
