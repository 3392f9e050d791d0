import { IsNull, type DataSource, type EntityManager } from 'typeorm';
import { OutboxEntity } from './outbox.entity';

export interface OutboxMessage {
  topic: string;
  key: string;
  type: string;
  payload: Record<string, unknown>;
}

export interface PendingOutboxMessage extends OutboxMessage {
  id: string;
  attempts: number;
}

/** Intent-level access to the outbox; handlers never see a raw TypeORM repository. */
export class OutboxRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Appends messages inside the caller's transaction, so they commit with the state change they announce. */
  async append(manager: EntityManager, messages: OutboxMessage[]): Promise<string[]> {
    if (messages.length === 0) return [];
    // One parameterised multi-row INSERT; payloads travel as parameters, never spliced into SQL.
    const rows: Array<{ id: string }> = await manager.query(
      `INSERT INTO outbox (topic, message_key, message_type, payload)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[])
       RETURNING id`,
      [
        messages.map((m) => m.topic),
        messages.map((m) => m.key),
        messages.map((m) => m.type),
        messages.map((m) => JSON.stringify(m.payload)),
      ],
    );
    return rows.map((r) => String(r.id));
  }

  /** The oldest unpublished messages, in commit order. */
  async findPending(limit: number): Promise<PendingOutboxMessage[]> {
    const rows = await this.dataSource.getRepository(OutboxEntity).find({
      where: { publishedAt: IsNull() },
      order: { id: 'ASC' },
      take: limit,
    });
    return rows.map((r) => ({
      id: String(r.id),
      topic: r.topic,
      key: r.messageKey,
      type: r.messageType,
      payload: r.payload,
      attempts: r.attempts,
    }));
  }

  async markPublished(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.dataSource
      .createQueryBuilder()
      .update(OutboxEntity)
      .set({ publishedAt: () => 'now()' })
      .where('id IN (:...ids)', { ids })
      .execute();
  }
}
