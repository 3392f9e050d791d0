import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity({ name: 'outbox' })
export class OutboxEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ type: 'text' })
  topic!: string;

  @Column({ type: 'text', name: 'message_key' })
  messageKey!: string;

  @Column({ type: 'text', name: 'message_type' })
  messageType!: string;

  @Column({ type: 'jsonb' })
  payload!: Record<string, unknown>;

  /** the correlation id of the work that wrote the row, sent as the message's `x-correlation-id` header */
  @Column({ type: 'text', name: 'correlation_id', nullable: true })
  correlationId!: string | null;

  @Column({ type: 'timestamptz', name: 'created_at', default: () => 'now()' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', name: 'published_at', nullable: true })
  publishedAt!: Date | null;

  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Column({ type: 'text', name: 'last_error', nullable: true })
  lastError!: string | null;
}
