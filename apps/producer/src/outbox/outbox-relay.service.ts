import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { Partitioners, type Producer, type TopicMessages } from 'kafkajs';
import type { ProducerConfig } from '@email-core/config';
import { topicName } from '@email-core/contracts';
import {
  DatabaseState,
  OutboxRepository,
  type OutboxPublishOutcome,
  type PendingOutboxMessage,
} from '@email-core/database';
import { correlationHeaders, createKafka, withTimeout } from '@email-core/kafka';
import { PRODUCER_CONFIG } from '../config.module';
import { OutboxSignal } from './outbox-signal';
import { isKnownTopic, outboxPayloadProblem } from './outbox-schemas';

const POLL_INTERVAL_MS = 200;
const BATCH_SIZE = 200;
/** a send that has not been acknowledged by then counts as failed; the rows are retried */
const SEND_TIMEOUT_MS = 15000;
const CONNECT_TIMEOUT_MS = 10000;
const MAX_BACKOFF_MS = 10000;

/**
 * Publishes the outbox to Kafka: what a use case committed in Postgres reaches the broker even if the process
 * died right after the commit, because a relay (in this or any other producer instance) finds the row later.
 *
 * Each round claims the oldest pending rows with `FOR UPDATE SKIP LOCKED` (rows another instance holds are
 * skipped, so N instances share the work without publishing a row twice in the normal case), validates every
 * payload against its contract, sends them with acks from all in-sync replicas on an idempotent producer, and
 * stamps them in the same transaction. A row whose send fails stays pending with its attempt count and error,
 * and is retried after a backoff. Delivery is at least once (a crash between the broker's ack and the commit
 * sends a row again), which the consumers tolerate by design; ordering per account holds within a batch, which
 * is what one instance publishes at a time.
 */
@Injectable()
export class OutboxRelayService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('OutboxRelay');
  private readonly producer: Producer;
  private connected = false;
  private stopping = false;
  private loop: Promise<void> | undefined;
  private failures = 0;

  constructor(
    @Inject(PRODUCER_CONFIG) private readonly config: ProducerConfig,
    private readonly outbox: OutboxRepository,
    private readonly database: DatabaseState,
    private readonly signal: OutboxSignal,
  ) {
    const kafka = createKafka({
      brokers: config.kafka.brokers,
      clientId: `${config.kafka.clientId}-outbox`,
      retries: 5,
      // kafkajs logs every retry of an outage; the relay reports a failing streak itself (onFailure)
      log: (_level, message) => this.logger.debug(`kafka: ${message}`),
    });
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // murmur2 on the key, as Java clients do: an account's messages land on one partition whoever sends them
      createPartitioner: Partitioners.DefaultPartitioner,
      // bounded, so a send fails within SEND_TIMEOUT_MS and the row is retried from the outbox
      retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2000 },
    });
    this.producer.on(this.producer.events.DISCONNECT, () => {
      this.connected = false;
    });
  }

  onApplicationBootstrap(): void {
    // Not awaited: the API serves while Postgres or Kafka are still coming up; the loop waits for them.
    this.loop = this.run();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.signal.notify();
    await this.loop;
    if (this.connected) await this.producer.disconnect().catch(() => undefined);
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let full = false;
      try {
        full = await this.round();
      } catch (err) {
        this.onFailure(err instanceof Error ? err.message : String(err));
      }
      if (this.stopping) break;
      // A full batch means more may be waiting: go again at once.
      if (!full) await this.signal.wait(this.delayMs());
    }
  }

  /** One claim-publish-stamp round; true when the batch was full. */
  private async round(): Promise<boolean> {
    if (!this.database.migrated) return false;
    const claimed = await this.outbox.publishPending(BATCH_SIZE, (rows) => this.publish(rows));
    return claimed === BATCH_SIZE;
  }

  private async publish(rows: PendingOutboxMessage[]): Promise<OutboxPublishOutcome> {
    const rejected: OutboxPublishOutcome['rejected'] = [];
    const byTopic = new Map<string, { ids: string[]; messages: TopicMessages['messages'] }>();
    for (const row of rows) {
      if (!isKnownTopic(row.topic)) {
        rejected.push({ id: row.id, error: `unknown topic "${row.topic}"` });
        continue;
      }
      const problem = outboxPayloadProblem(row.type, row.payload);
      if (problem !== null) {
        rejected.push({ id: row.id, error: problem });
        continue;
      }
      const topic = topicName(this.config.kafka.topicPrefix, row.topic);
      const entry = byTopic.get(topic) ?? { ids: [], messages: [] };
      entry.ids.push(row.id);
      entry.messages.push({
        key: row.key,
        value: JSON.stringify(row.payload),
        headers: { 'message-type': row.type, 'outbox-id': row.id, ...correlationHeaders(row.correlationId) },
      });
      byTopic.set(topic, entry);
    }
    for (const r of rejected)
      this.logger.error(`outbox row ${r.id} set aside, not a valid message: ${r.error}`);
    const ids = [...byTopic.values()].flatMap((e) => e.ids);
    if (ids.length === 0) return { published: [], failed: [], rejected };
    try {
      await this.ensureConnected();
      await withTimeout(
        this.producer.sendBatch({
          acks: -1,
          topicMessages: [...byTopic].map(([topic, e]) => ({ topic, messages: e.messages })),
        }),
        SEND_TIMEOUT_MS,
        `Kafka did not acknowledge within ${SEND_TIMEOUT_MS} ms`,
      );
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      this.onFailure(error);
      return { published: [], failed: ids.map((id) => ({ id, error })), rejected };
    }
    if (this.failures > 0)
      this.logger.log(`publishing to Kafka again after ${this.failures} failed attempts`);
    this.failures = 0;
    return { published: ids, failed: [], rejected };
  }

  private async ensureConnected(): Promise<void> {
    if (this.connected) return;
    await withTimeout(this.producer.connect(), CONNECT_TIMEOUT_MS, 'Kafka connection timed out');
    this.connected = true;
  }

  private onFailure(message: string): void {
    this.failures += 1;
    // Once per streak, then every 10th, so a long outage does not flood the log.
    if (this.failures === 1 || this.failures % 10 === 0) {
      this.logger.warn(`outbox not published (attempt ${this.failures}): ${message}; retrying`);
    }
  }

  private delayMs(): number {
    if (this.failures === 0) return POLL_INTERVAL_MS;
    return Math.min(POLL_INTERVAL_MS * 2 ** Math.min(this.failures, 10), MAX_BACKOFF_MS);
  }
}
