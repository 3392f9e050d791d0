import { KafkaJSError, type IHeaders, type KafkaMessage } from 'kafkajs';
import {
  decideFailure,
  deliveryAttempt,
  describeError,
  invalidMessageEnvelope,
  parseMessage,
} from './failure-policy';
import { watchAssignment } from './assignment';
import {
  isRebalance,
  nextOffset,
  type ConsumerLog,
  type RunConsumerOptions,
  type RunningConsumer,
} from './consumer-runner';

/** One message of a key's group, as the handler sees it. */
export interface GroupedMessage<T> {
  value: T;
  offset: string;
  /** 1-based delivery number of this message (1 = first delivery, 2 = first retry, ...) */
  attempt: number;
  headers: IHeaders;
}

export interface GroupContext {
  topic: string;
  partition: number;
  /** the group's key (`groupOf`; by default the messages' Kafka key, the account id) */
  key: string;
  /**
   * Aborted when the consumer stops or loses the partition. The batch is then left uncommitted and delivered
   * again, so the handler must be idempotent and resumable.
   */
  signal: AbortSignal;
}

export interface RunBatchConsumerOptions<T> extends Omit<RunConsumerOptions<T>, 'handle'> {
  /**
   * Handles every valid message of one key in a fetched batch at once, in offset order. If it throws, each of
   * those messages takes the failure path on its own (retry topic with backoff, dead-letter after its last
   * attempt), exactly as `runConsumer` routes a single message.
   */
  handleGroup: (key: string, messages: Array<GroupedMessage<T>>, ctx: GroupContext) => Promise<void>;
  /** what groups a message (default: its Kafka key), e.g. the account id its value names */
  groupOf?: (value: T, key: string) => string;
  /** keys of one batch handled at once (default 4) */
  groupsConcurrently?: number;
  /** how long a fetch waits for more messages to fill a batch (kafkajs `maxWaitTimeInMs`, default 5000) */
  maxWaitTimeInMs?: number;
  /** bytes fetched per partition at most (kafkajs `maxBytesPerPartition`, default 1 MiB) */
  maxBytesPerPartition?: number;
}

/** Thrown to kafkajs when the batch was abandoned because the consumer is stopping: no commit, no log noise. */
class BatchAbandonedError extends KafkaJSError {
  constructor() {
    super('consumer stopping; batch left uncommitted for redelivery', { retriable: true });
  }
}

interface ParsedMessage<T> extends GroupedMessage<T> {
  key: string;
  raw: string;
}

/**
 * A typed, coalescing consumer (kafkajs `eachBatch`): each fetched batch of a partition is validated, grouped by
 * message key, and each key's messages are handed to `handleGroup` together, up to `groupsConcurrently` keys at
 * once. The batch's offsets are committed only once every group was handled (its writes durable) or routed to the
 * retry / dead-letter topic. A message that fails validation goes straight to the dead-letter topic, so it never
 * blocks the partition. If publishing to retry/dead-letter fails, nothing is committed and kafkajs redelivers.
 */
export async function runBatchConsumer<T>(opts: RunBatchConsumerOptions<T>): Promise<RunningConsumer> {
  const log: ConsumerLog = opts.log ?? (() => undefined);
  const now = opts.now ?? (() => new Date());
  const heartbeatIntervalMs = opts.heartbeatIntervalMs ?? 3000;
  const groupsConcurrently = Math.max(1, opts.groupsConcurrently ?? 4);
  const consumer = opts.kafka.consumer({
    groupId: opts.groupId,
    sessionTimeout: opts.sessionTimeoutMs ?? 45000,
    heartbeatInterval: heartbeatIntervalMs,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: opts.maxWaitTimeInMs ?? 5000,
    ...(opts.maxBytesPerPartition === undefined ? {} : { maxBytesPerPartition: opts.maxBytesPerPartition }),
  });
  const inFlight = new Set<AbortController>();
  let stopping = false;
  if (opts.onAssignment) watchAssignment(consumer, opts.topic, opts.onAssignment);

  await consumer.connect();
  try {
    await consumer.subscribe({ topic: opts.topic, fromBeginning: opts.fromBeginning ?? true });
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently ?? 1,
      eachBatch: async (payload) => {
        const { batch } = payload;
        const { topic, partition } = batch;
        if (batch.messages.length === 0) return;
        const groups = new Map<string, Array<ParsedMessage<T>>>();
        const invalid: Array<{ message: KafkaMessage; key: string; raw: string | null; error: string }> = [];
        for (const message of batch.messages) {
          const key = message.key?.toString('utf8') ?? '';
          const raw = message.value?.toString('utf8') ?? null;
          const parsed = parseMessage(raw, opts.schema);
          if (!parsed.ok) {
            invalid.push({ message, key, raw, error: parsed.error });
            continue;
          }
          const group = opts.groupOf ? opts.groupOf(parsed.value, key) : key;
          const list = groups.get(group) ?? [];
          list.push({
            key,
            raw: raw ?? '',
            value: parsed.value,
            offset: message.offset,
            attempt: deliveryAttempt(message.headers),
            headers: message.headers ?? {},
          });
          groups.set(group, list);
        }

        for (const bad of invalid) {
          log('warn', `${topic}[${partition}]@${bad.message.offset}: ${bad.error}; sent to dead-letter`);
          await opts.publisher.publish(
            opts.deadLetterTopic,
            bad.key,
            invalidMessageEnvelope(topic, bad.key, bad.raw, bad.error, now()),
          );
        }

        const controller = new AbortController();
        inFlight.add(controller);
        // kafkajs heartbeats only between batches; long rounds keep the membership alive here, and learn of a
        // rebalance through their signal instead of writing for a partition this member lost.
        const beat = setInterval(() => {
          payload.heartbeat().catch((err: unknown) => {
            if (isRebalance(err)) controller.abort(err);
          });
        }, heartbeatIntervalMs);
        beat.unref();
        try {
          const handleOne = async (key: string, messages: Array<ParsedMessage<T>>): Promise<void> => {
            try {
              await opts.handleGroup(
                key,
                messages.map(({ value, offset, attempt, headers }) => ({ value, offset, attempt, headers })),
                { topic, partition, key, signal: controller.signal },
              );
            } catch (err) {
              if (controller.signal.aborted) return; // the batch is abandoned below
              await routeFailure(topic, partition, key, messages, err);
            }
          };
          const keys = [...groups.keys()];
          let next = 0;
          const worker = async (): Promise<void> => {
            while (next < keys.length && !controller.signal.aborted) {
              const key = keys[next++];
              await handleOne(key, groups.get(key) ?? []);
            }
          };
          // every group settles before the batch is judged: no round still writes once it is given up
          const settled = await Promise.allSettled(
            Array.from({ length: Math.min(groupsConcurrently, keys.length) }, worker),
          );
          const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
          if (failed) throw failed.reason; // the retry/dead-letter topic was unreachable: redelivered
          if (controller.signal.aborted) {
            const reason: unknown = controller.signal.reason;
            throw reason instanceof KafkaJSError ? reason : new BatchAbandonedError();
          }
        } finally {
          clearInterval(beat);
          inFlight.delete(controller);
        }
        // a seek or a stop meanwhile: the batch is not ours to commit any more
        if (!payload.isRunning() || payload.isStale()) throw new BatchAbandonedError();
        await consumer.commitOffsets([{ topic, partition, offset: nextOffset(batch.lastOffset()) }]);
      },
    });
  } catch (err) {
    await consumer.disconnect().catch(() => undefined);
    throw err;
  }

  /** Each message of a failed group takes the failure path on its own, with its own attempt count. */
  async function routeFailure(
    topic: string,
    partition: number,
    group: string,
    messages: Array<ParsedMessage<T>>,
    err: unknown,
  ): Promise<void> {
    const at = now();
    // each message keeps its own Kafka key, so its retry lands on the same partition as the original
    const decisions = messages.map((m) => ({
      key: m.key,
      decision: decideFailure(
        { topic, key: m.key, value: m.raw, attempt: m.attempt, error: err, now: at },
        opts.retry,
      ),
    }));
    const retried = decisions.filter((d) => d.decision.route === 'retry');
    const dead = decisions.filter((d) => d.decision.route === 'dead-letter');
    log(
      dead.length > 0 ? 'error' : 'warn',
      `${topic}[${partition}] group ${group}: ${messages.length} message(s) at ${messages[0]?.offset ?? '?'}..` +
        `${messages.at(-1)?.offset ?? '?'} failed: ${describeError(err)}; ` +
        `${retried.length} to retry, ${dead.length} to dead-letter`,
    );
    await opts.publisher.publishMany(
      opts.retryTopic,
      retried.map((d) => ({ key: d.key, value: d.decision.envelope })),
    );
    await opts.publisher.publishMany(
      opts.deadLetterTopic,
      dead.map((d) => ({ key: d.key, value: d.decision.envelope })),
    );
  }

  return {
    consumer,
    stop: async () => {
      if (stopping) return;
      stopping = true;
      for (const c of inFlight) c.abort(new BatchAbandonedError());
      await consumer.disconnect();
    },
  };
}
