import type { DataSource } from 'typeorm';

/** The account that holds a message, with its provider (which adapter reads the message). */
export interface MessageOwner {
  id: string;
  provider: string;
}

/** Which of a user's accounts holds a message (by the provider's id of it): what the attachment queries need. */
export abstract class MessageOwners {
  /** The account, or null when no account of the user has the message (someone else's reads the same). */
  abstract accountOf(userId: string, messageId: string): Promise<MessageOwner | null>;
}

/** MessageOwners read from the mirror. */
export class MessageOwnerRepository extends MessageOwners {
  constructor(private readonly dataSource: DataSource) {
    super();
  }

  async accountOf(userId: string, messageId: string): Promise<MessageOwner | null> {
    const rows: Array<{ account_id: string; provider: string }> = await this.dataSource.query(
      `SELECT m.account_id, a.provider
         FROM messages m
         JOIN mail_accounts a ON a.id = m.account_id
        WHERE a.user_id = $1 AND m.remote_id = $2
        LIMIT 1`,
      [userId, messageId],
    );
    const r = rows[0];
    return r ? { id: r.account_id, provider: r.provider } : null;
  }
}
