import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The correlation id of the work that wrote an outbox row (an API request's, issue 22), which the relay sends as
 * the message's `x-correlation-id` header, so the request's log lines and the consumer's lines for its message share
 * one id. Nullable: rows written before it, and rows written outside correlated work, have none (the consumer then
 * starts a fresh id). Adding a nullable column without a default rewrites nothing.
 */
export class OutboxCorrelationId1764600000000 implements MigrationInterface {
  name = 'OutboxCorrelationId1764600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE outbox ADD COLUMN IF NOT EXISTS correlation_id text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE outbox DROP COLUMN IF EXISTS correlation_id`);
  }
}
