import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import { hostname } from 'node:os';
import type { ProducerConfig } from '@email-core/config';
import { domainEventSchema, realtimeGroupName, topicName, Topics } from '@email-core/contracts';
import {
  correlationIdOf,
  createKafka,
  KafkaWorker,
  parseMessage,
  withTimeout,
  type RunningConsumer,
  subscribeWhenReady,
} from '@email-core/kafka';
import { runWithCorrelation } from '@email-core/logging';
import { PRODUCER_CONFIG } from '../config.module';
import { RealtimeGateway } from './realtime.gateway';

/** This instance's own consumer group: every API instance must see every event, for the sockets it holds. */
export function realtimeGroupId(config: Pick<ProducerConfig, 'kafka' | 'realtime'>): string {
  const instance = config.realtime.instanceId ?? `${hostname()}-${process.pid}`;
  return `${config.kafka.topicPrefix}${realtimeGroupName(instance)}`;
}

const ADMIN_TIMEOUT_MS = 5000;

/**
 * Feeds the sockets from the events topic. Each API instance reads the whole topic in a group of its own,
 * starting at the newest offset (history is what `GET /accounts/:id/changes` is for), and emits every event to
 * the room of the user it names. An invalid message is skipped and counted, never fatal. The consumer runs in
 * the background: the API boots and serves while Kafka is down, and the consumer joins once it is back.
 *
 * Offsets are committed, so when kafkajs restarts the consumer (a broker failover) it resumes where it was and
 * the sockets still connected get what was published meanwhile. The group is deleted when the process stops,
 * and a leftover of a previous process with the same instance id is deleted before the first start, so a new
 * process always begins with new events and groups do not pile up.
 */
@Injectable()
export class RealtimeEventsConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('RealtimeEvents');
  private readonly kafka: Kafka;
  private readonly worker: KafkaWorker;
  readonly topic: string;
  readonly groupId: string;
  private readonly counts = { delivered: 0, skipped: 0 };
  private started = false;

  constructor(
    @Inject(PRODUCER_CONFIG) private readonly config: ProducerConfig,
    private readonly gateway: RealtimeGateway,
  ) {
    this.topic = topicName(config.kafka.topicPrefix, Topics.events);
    this.groupId = realtimeGroupId(config);
    this.kafka = createKafka({
      brokers: config.kafka.brokers,
      clientId: `${config.kafka.clientId}-realtime`,
      retries: 3,
      // the worker reports a failing start itself; kafkajs' retry chatter stays at debug
      log: (level, message) =>
        level === 'error' ? this.logger.warn(`kafka: ${message}`) : this.logger.debug(`kafka: ${message}`),
    });
    this.worker = new KafkaWorker({
      name: `real-time events (group ${this.groupId})`,
      logger: this.logger,
      ready: () => Promise.resolve(true),
      start: () => this.start(),
    });
  }

  onApplicationBootstrap(): void {
    this.worker.begin();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.worker.stop();
    if (this.started) await this.deleteGroup();
  }

  /** How many events went out to sockets, and how many messages were skipped as invalid. */
  stats(): { delivered: number; skipped: number } {
    return { ...this.counts };
  }

  /** One message of the events topic: a valid event goes to its user's room; anything else is counted. */
  deliver(raw: string | null, where: string): boolean {
    const parsed = parseMessage(raw, domainEventSchema);
    if (!parsed.ok) {
      this.counts.skipped += 1;
      const n = this.counts.skipped;
      if (n === 1 || n % 100 === 0) {
        this.logger.warn(`skipped an invalid event at ${where} (${n} so far): ${parsed.error}`);
      }
      return false;
    }
    this.gateway.emitToUser(parsed.value);
    this.counts.delivered += 1;
    return true;
  }

  private async start(): Promise<RunningConsumer> {
    if (!this.started) await this.deleteGroup();
    const consumer = this.kafka.consumer({
      groupId: this.groupId,
      // a lone member: a crashed process's membership should lapse fast
      sessionTimeout: 10000,
      heartbeatInterval: 3000,
      maxWaitTimeInMs: 1000,
      allowAutoTopicCreation: false,
    });
    await consumer.connect();
    try {
      await subscribeWhenReady(consumer, { topics: [this.topic], fromBeginning: false });
      await consumer.run({
        autoCommit: true,
        autoCommitInterval: 5000,
        partitionsConsumedConcurrently: this.config.kafka.partitions,
        eachMessage: ({ topic, partition, message }) => {
          // under the event's correlation id: the emit's log line carries the id the change came in with
          runWithCorrelation(correlationIdOf(message.headers), () =>
            this.deliver(message.value?.toString('utf8') ?? null, `${topic}[${partition}]@${message.offset}`),
          );
          return Promise.resolve();
        },
      });
    } catch (err) {
      await consumer.disconnect().catch(() => undefined);
      throw err;
    }
    this.started = true;
    return { consumer, stop: () => consumer.disconnect() };
  }

  /** Best effort: a group that does not exist, or still has a member, is left alone. */
  private async deleteGroup(): Promise<void> {
    const admin = this.kafka.admin();
    try {
      await withTimeout(admin.connect(), ADMIN_TIMEOUT_MS, 'Kafka admin connection timed out');
      await withTimeout(admin.deleteGroups([this.groupId]), ADMIN_TIMEOUT_MS, 'group deletion timed out');
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err);
      const groups = (err as { groups?: Array<{ errorCode?: number; error?: { type?: string } }> }).groups;
      const nonEmpty = groups?.some((g) => g.error?.type === 'NON_EMPTY_GROUP');
      if (nonEmpty) {
        this.logger.warn(
          `consumer group ${this.groupId} still has members (a previous process whose session has not lapsed, ` +
            'or REALTIME_INSTANCE_ID shared by two API instances, which would split the events between them)',
        );
      } else {
        this.logger.debug(`consumer group ${this.groupId} not deleted: ${text}`);
      }
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}
