import { KafkaJSError, type Consumer, type IHeaders, type Kafka } from 'kafkajs';
import { subscribeWhenReady } from './topics-admin';
import type { z } from 'zod';
import { runWithCorrelation } from '@email-core/logging';
import { correlationIdOf } from './correlation-headers';
import {
  decideFailure,
  deliveryAttempt,
  describeError,
  invalidMessageEnvelope,
  parseMessage,
  type RetryPolicy,
} from './failure-policy';
import { watchAssignment, type AssignmentListener } from './assignment';
import type { KafkaPublisher } from './publisher';

export type ConsumerLog = (level: 'error' | 'warn' | 'info' | 'debug', message: string) => void;

/**
 * What became of consumed messages: `handled` (the handler resolved), `retried` or `dead_lettered` (routed to the
 * retry or dead-letter topic, published). A message abandoned on a stop or a rebalance is none of them: it is
 * delivered again.
 */
export type MessageOutcome = 'handled' | 'retried' | 'dead_lettered';
export type OutcomeListener = (outcome: MessageOutcome, count: number) => void;

/** calls `listener` (for metrics) with what became of `count` messages; it can never fail the consumer */
export function outcomeReporter(listener: OutcomeListener | undefined): OutcomeListener {
  return (outcome, count) => {
    if (!listener || count <= 0) return;
    try {
      listener(outcome, count);
    } catch {
      // a metric is never worth a message
    }
  };
}

export interface MessageContext {
  topic: string;
  partition: number;
  offset: string;
  /** the message key: the account id */
  key: string;
  /** 1-based delivery number (1 = first delivery, 2 = first retry, ...) */
  attempt: number;
  headers: IHeaders;
  /**
   * Aborted when the consumer stops or loses the partition in a rebalance. A long handler checks it between
   * units of work and gives up; the message then stays uncommitted and is delivered again, so handlers must be
   * idempotent and resumable (they are: every effect is an upsert keyed by ids, progress lives in Postgres).
   */
  signal: AbortSignal;
}

export interface RunConsumerOptions<T> {
  kafka: Kafka;
  groupId: string;
  topic: string;
  schema: z.ZodType<T, z.ZodTypeDef, unknown>;
  handle: (message: T, ctx: MessageContext) => Promise<void>;
  publisher: KafkaPublisher;
  retryTopic: string;
  deadLetterTopic: string;
  retry: RetryPolicy;
  /** partitions handled at once by this process (one message at a time within a partition); default 1 */
  partitionsConsumedConcurrently?: number;
  /** a new group starts at the oldest message (default), so nothing published before it existed is lost */
  fromBeginning?: boolean;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /**
   * how long an idle fetch waits for messages (kafkajs `maxWaitTimeInMs`); a stop waits for the fetch in progress,
   * so this bounds a graceful shutdown. Default 1000 (kafkajs' 5000 made every stop wait up to 5 s).
   */
  maxWaitTimeInMs?: number;
  log?: ConsumerLog;
  now?: () => Date;
  /** told this member's partitions of `topic` after every group join, and `[]` once it stopped */
  onAssignment?: AssignmentListener;
  /** told what became of the messages (handled, retried, dead-lettered), for metrics */
  onOutcome?: OutcomeListener;
}

export interface RunningConsumer {
  consumer: Consumer;
  stop(): Promise<void>;
}

/** kafkajs' own test for "the group moved on": rejoin, do not commit */
const REBALANCE_TYPES = new Set([
  'REBALANCE_IN_PROGRESS',
  'NOT_COORDINATOR_FOR_GROUP',
  'ILLEGAL_GENERATION',
  'UNKNOWN_MEMBER_ID',
]);
export const isRebalance = (err: unknown): boolean =>
  err instanceof KafkaJSError && REBALANCE_TYPES.has((err as KafkaJSError & { type?: string }).type ?? '');

/** Thrown to kafkajs when a handler gave up because the consumer is stopping: no commit, no log noise. */
class ConsumerStoppingError extends KafkaJSError {
  constructor() {
    super('consumer stopping; message left uncommitted for redelivery', { retriable: true });
  }
}

/** An idle fetch's wait: short, because a stopping consumer waits for its fetch to return before it leaves. */
export const DEFAULT_MAX_WAIT_MS = 1000;

/** the offset to commit once `offset` is done */
export const nextOffset = (offset: string): string => (BigInt(offset) + 1n).toString();

/**
 * A typed consumer: each message is validated against `schema` and handed to `handle`; its offset is committed
 * only once `handle` resolved (its database writes are durable). A message that fails validation goes straight
 * to the dead-letter topic; a handler error goes to the retry topic with backoff, and to the dead-letter topic
 * after `retry.maxAttempts` deliveries. Either way the offset is then committed, so one bad message never
 * blocks its partition. If publishing to retry/dead-letter fails, nothing is committed and kafkajs redelivers.
 */
export async function runConsumer<T>(opts: RunConsumerOptions<T>): Promise<RunningConsumer> {
  const log: ConsumerLog = opts.log ?? (() => undefined);
  const now = opts.now ?? (() => new Date());
  const outcome = outcomeReporter(opts.onOutcome);
  const heartbeatIntervalMs = opts.heartbeatIntervalMs ?? 3000;
  const consumer = opts.kafka.consumer({
    groupId: opts.groupId,
    sessionTimeout: opts.sessionTimeoutMs ?? 45000,
    heartbeatInterval: heartbeatIntervalMs,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: opts.maxWaitTimeInMs ?? DEFAULT_MAX_WAIT_MS,
  });
  const inFlight = new Set<AbortController>();
  let stopping = false;
  if (opts.onAssignment) watchAssignment(consumer, opts.topic, opts.onAssignment);

  await consumer.connect();
  try {
    await subscribeWhenReady(consumer, { topics: [opts.topic], fromBeginning: opts.fromBeginning ?? true });
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently ?? 1,
      // each message's work (its handler, and its retry or dead-letter routing) runs under its correlation id (a
      // fresh one when it carries none): its log lines and the messages it publishes carry it
      eachMessage: (payload) =>
        runWithCorrelation(correlationIdOf(payload.message.headers), async () => {
          const { topic, partition, message } = payload;
          const key = message.key?.toString('utf8') ?? '';
          const raw = message.value?.toString('utf8') ?? null;
          const commit = () =>
            consumer.commitOffsets([{ topic, partition, offset: nextOffset(message.offset) }]);

          const parsed = parseMessage(raw, opts.schema);
          if (!parsed.ok) {
            log('warn', `${topic}[${partition}]@${message.offset}: ${parsed.error}; sent to dead-letter`);
            await opts.publisher.publish(
              opts.deadLetterTopic,
              key,
              invalidMessageEnvelope(topic, key, raw, parsed.error, now()),
            );
            outcome('dead_lettered', 1);
            await commit();
            return;
          }

          const attempt = deliveryAttempt(message.headers);
          const controller = new AbortController();
          inFlight.add(controller);
          // kafkajs only heartbeats between messages; a long handler (a mailbox sync) keeps the membership alive
          // here, and learns of a rebalance through its signal instead of holding a partition it lost.
          const beat = setInterval(() => {
            payload.heartbeat().catch((err: unknown) => {
              if (isRebalance(err)) controller.abort(err);
            });
          }, heartbeatIntervalMs);
          beat.unref();
          try {
            await opts.handle(parsed.value, {
              topic,
              partition,
              offset: message.offset,
              key,
              attempt,
              headers: message.headers ?? {},
              signal: controller.signal,
            });
            outcome('handled', 1);
          } catch (err) {
            if (controller.signal.aborted) {
              const reason: unknown = controller.signal.reason;
              throw reason instanceof KafkaJSError ? reason : new ConsumerStoppingError();
            }
            const decision = decideFailure(
              { topic, key, value: raw ?? '', attempt, error: err, now: now() },
              opts.retry,
            );
            log(
              decision.route === 'retry' ? 'warn' : 'error',
              `${topic}[${partition}]@${message.offset} key ${key} attempt ${attempt} failed: ${describeError(err)}; ` +
                (decision.route === 'retry'
                  ? `retry after ${decision.envelope.notBefore}`
                  : 'sent to dead-letter'),
            );
            await opts.publisher.publish(
              decision.route === 'retry' ? opts.retryTopic : opts.deadLetterTopic,
              key,
              decision.envelope,
            );
            outcome(decision.route === 'retry' ? 'retried' : 'dead_lettered', 1);
          } finally {
            clearInterval(beat);
            inFlight.delete(controller);
          }
          await commit();
        }),
    });
  } catch (err) {
    await consumer.disconnect().catch(() => undefined);
    throw err;
  }

  return {
    consumer,
    stop: async () => {
      if (stopping) return;
      stopping = true;
      for (const c of inFlight) c.abort(new ConsumerStoppingError());
      await consumer.disconnect();
    },
  };
}
