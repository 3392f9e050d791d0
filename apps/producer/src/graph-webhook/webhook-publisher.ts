import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { ProducerConfig } from '@email-core/config';
import {
  mailboxPokeSchema,
  subscriptionLifecycleSchema,
  topicName,
  Topics,
  type MailboxPoke,
  type SubscriptionLifecycle,
} from '@email-core/contracts';
import { correlationHeaders, KafkaPublisher, withTimeout } from '@email-core/kafka';
import { currentCorrelationId } from '@email-core/logging';
import { PRODUCER_CONFIG } from '../config.module';
import { GroupCommit } from './group-commit';

/** a poke waiting for its send, with the Kafka headers of the request it came from */
interface CorrelatedPoke {
  poke: MailboxPoke;
  headers: Record<string, string>;
}

/** the webhook's own Kafka publisher (its client fails fast: Graph waits 3 s at most) */
export const WEBHOOK_KAFKA_PUBLISHER = Symbol('WEBHOOK_KAFKA_PUBLISHER');

/**
 * A send still unacknowledged after this long counts as failed and the request is answered 503 (Graph delivers
 * again; the late send, if it lands, is a duplicate poke, which the workers tolerate). Graph gives up at 3 s.
 */
export const PUBLISH_TIMEOUT_MS = 2000;
/** the bytes of one produce request, well under Kafka's default 1 MB message.max.bytes per partition batch */
const MAX_BATCH_BYTES = 512 * 1024;
/** a Kafka outage is logged once per this interval, not once per request */
const FAILURE_LOG_INTERVAL_MS = 10_000;

/**
 * Publishes what the webhook accepted, keyed by account id, with acks from all in-sync replicas (the project's
 * KafkaPublisher). Change notifications, as pokes, go through a group commit, so concurrent requests share produce
 * requests; each caller still resolves only once its own messages are acknowledged. Lifecycle events stay on the
 * subscriptions topic.
 */
@Injectable()
export class WebhookPublisher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('GraphWebhook');
  private readonly pokes: GroupCommit<CorrelatedPoke>;
  private readonly pokesTopic: string;
  private readonly subscriptionsTopic: string;
  private lastFailureLogAt = 0;
  private failuresSinceLog = 0;

  constructor(
    @Inject(WEBHOOK_KAFKA_PUBLISHER) private readonly publisher: KafkaPublisher,
    @Inject(PRODUCER_CONFIG) config: ProducerConfig,
  ) {
    this.pokesTopic = topicName(config.kafka.topicPrefix, Topics.mailboxPokes);
    this.subscriptionsTopic = topicName(config.kafka.topicPrefix, Topics.subscriptions);
    this.pokes = new GroupCommit(
      (messages) =>
        this.publisher.publishMany(
          this.pokesTopic,
          // a send gathers several requests' pokes: each carries its own request's correlation id
          messages.map(({ poke, headers }) => ({ key: poke.accountId, value: poke, headers })),
        ),
      { maxBatchBytes: MAX_BATCH_BYTES },
    );
  }

  onApplicationBootstrap(): void {
    // Connected ahead of the first notification; not awaited, so the API starts while Kafka is still coming up.
    this.publisher.connect().catch((err: unknown) => {
      this.logger.warn(
        `Kafka not reachable yet (${err instanceof Error ? err.message : String(err)}); notifications are answered 503 until it is`,
      );
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.publisher.disconnect().catch(() => undefined);
  }

  /**
   * Resolves once every message is acknowledged; rejects on a Kafka failure or after PUBLISH_TIMEOUT_MS. Each
   * message is checked against its contract here, so one bad message fails only its own request, never the
   * batch it would have shared with others. `bytes`: roughly how large the messages are (for batching).
   */
  async publishPokes(messages: MailboxPoke[], bytes: number): Promise<void> {
    for (const m of messages) mailboxPokeSchema.parse(m);
    const headers = correlationHeaders(currentCorrelationId());
    await this.acknowledged(
      this.pokes.add(
        messages.map((poke) => ({ poke, headers })),
        bytes,
      ),
    );
  }

  async publishLifecycle(messages: SubscriptionLifecycle[]): Promise<void> {
    await this.acknowledged(
      this.publisher.publishMany(
        this.subscriptionsTopic,
        messages.map((m) => ({ key: m.accountId, value: m })),
        { schema: subscriptionLifecycleSchema },
      ),
    );
  }

  private async acknowledged(send: Promise<void>): Promise<void> {
    try {
      await withTimeout(
        send,
        PUBLISH_TIMEOUT_MS,
        `Kafka did not acknowledge within ${PUBLISH_TIMEOUT_MS} ms`,
      );
    } catch (err) {
      this.failuresSinceLog += 1;
      if (Date.now() - this.lastFailureLogAt >= FAILURE_LOG_INTERVAL_MS) {
        this.logger.warn(
          `notifications not published (${this.failuresSinceLog} failed requests answered 503): ` +
            (err instanceof Error ? err.message : String(err)),
        );
        this.lastFailureLogAt = Date.now();
        this.failuresSinceLog = 0;
      }
      throw err;
    }
  }
}
