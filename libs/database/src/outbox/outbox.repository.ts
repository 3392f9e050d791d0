import { IsNull, type DataSource, type EntityManager } from 'typeorm';
import { currentCorrelationId } from '@email-core/logging';
import { OutboxEntity } from './outbox.entity';

export interface OutboxMessage {
  topic: string;
  key: string;
  type: string;
  payload: Record<string, unknown>;
  /** the message's correlation id; by default the current work's, else the API request's id, if any */
  correlationId?: string;
}

export interface PendingOutboxMessage extends OutboxMessage {
  id: string;
  attempts: number;
  correlationId: string | undefined;
}

/** What a relay did with the rows it claimed. */
export interface OutboxPublishOutcome {
  /** reached the broker */
  published: string[];
  /** did not, for a reason that may pass (broker down): retried next round */
  failed: Array<{ id: string; error: string }>;
  /** can never be published as they are (no such topic, payload breaks its contract): set aside, see below */
  rejected: Array<{ id: string; error: string }>;
}

/** how a set-aside row's last_error starts (see publishPending) */
export const REJECTED = 'rejected: ';

/** Intent-level access to the outbox; handlers never see a raw TypeORM repository. */
export class OutboxRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Appends messages inside the caller's transaction, so they commit with the state change they announce. */
  async append(manager: EntityManager, messages: OutboxMessage[]): Promise<string[]> {
    if (messages.length === 0) return [];
    // One parameterised multi-row INSERT; payloads travel as parameters, never spliced into SQL.
    // the work's correlation id (an API request's is its request id, so its outbox rows carry its X-Request-Id)
    const current = currentCorrelationId() ?? null;
    const rows: Array<{ id: string }> = await manager.query(
      `INSERT INTO outbox (topic, message_key, message_type, payload, correlation_id)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[], $5::text[])
       RETURNING id`,
      [
        messages.map((m) => m.topic),
        messages.map((m) => m.key),
        messages.map((m) => m.type),
        messages.map((m) => JSON.stringify(m.payload)),
        messages.map((m) => m.correlationId ?? current),
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
      correlationId: r.correlationId ?? undefined,
    }));
  }

  /**
   * Claims up to `limit` unpublished rows, oldest first, with `FOR UPDATE SKIP LOCKED`, so relays in other
   * processes skip them and claim the next ones; hands them to `publish` while the claim is held; then, in the
   * same transaction, stamps the published rows and records the attempt and its error on the rest, which stay
   * pending for the next round. Rejected rows stay unpublished but are no longer claimed, so one bad row cannot
   * stall the relay; their `last_error` starts with "rejected: ", and clearing it releases the row again.
   * Returns how many rows were claimed.
   */
  async publishPending(
    limit: number,
    publish: (rows: PendingOutboxMessage[]) => Promise<OutboxPublishOutcome>,
  ): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const rows: Array<{
        id: string;
        topic: string;
        message_key: string;
        message_type: string;
        payload: Record<string, unknown>;
        attempts: number;
        correlation_id: string | null;
      }> = await manager.query(
        `SELECT id, topic, message_key, message_type, payload, attempts, correlation_id FROM outbox
         WHERE published_at IS NULL AND (last_error IS NULL OR left(last_error, $2) <> $3)
         ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [limit, REJECTED.length, REJECTED],
      );
      if (rows.length === 0) return 0;
      const outcome = await publish(
        rows.map((r) => ({
          id: String(r.id),
          topic: r.topic,
          key: r.message_key,
          type: r.message_type,
          payload: r.payload,
          attempts: r.attempts,
          correlationId: r.correlation_id ?? undefined,
        })),
      );
      if (outcome.published.length > 0) {
        await manager.query(
          `UPDATE outbox SET published_at = now(), attempts = attempts + 1, last_error = NULL
           WHERE id = ANY($1::bigint[])`,
          [outcome.published],
        );
      }
      const failed = [
        ...outcome.failed,
        ...outcome.rejected.map((r) => ({ id: r.id, error: `${REJECTED}${r.error}` })),
      ];
      if (failed.length > 0) {
        await manager.query(
          `UPDATE outbox o SET attempts = o.attempts + 1, last_error = f.error
           FROM unnest($1::bigint[], $2::text[]) AS f(id, error) WHERE o.id = f.id`,
          [failed.map((f) => f.id), failed.map((f) => f.error.slice(0, 2000))],
        );
      }
      return rows.length;
    });
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
