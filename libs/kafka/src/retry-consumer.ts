import type { Kafka } from 'kafkajs';
import { subscribeWhenReady } from './topics-admin';
import { failedMessageSchema, type FailedMessage } from '@email-core/contracts';
import { runWithCorrelation } from '@email-core/logging';
import { correlationIdOf } from './correlation-headers';
import { DEFAULT_MAX_WAIT_MS, nextOffset, type ConsumerLog, type RunningConsumer } from './consumer-runner';
import { FAILURES_HEADER, invalidMessageEnvelope, parseMessage } from './failure-policy';
import type { KafkaPublisher } from './publisher';

export interface RunRetryConsumerOptions {
  kafka: Kafka;
  groupId: string;
  retryTopic: string;
  deadLetterTopic: string;
  publisher: KafkaPublisher;
  /** the only topics an envelope may be sent back to; anything else is dead-lettered */
  allowedTopics: readonly string[];
  /** waits up to this long inside the handler; longer waits pause the partition instead (default 1000) */
  maxInlineWaitMs?: number;
  /** a paused partition is looked at again after at most this long (default 30000) */
  maxPauseMs?: number;
  /** retry partitions handled at once (default 6: a waiting partition never holds up the others) */
  partitionsConsumedConcurrently?: number;
  log?: ConsumerLog;
  now?: () => number;
}

export type RetryAction =
  | { kind: 'republish'; envelope: FailedMessage }
  | { kind: 'wait'; envelope: FailedMessage; ms: number }
  | { kind: 'dead-letter'; error: string };

/** What the retry consumer does with one envelope at time `now`: pure, so it is tested without a broker. */
export function retryAction(
  raw: string | null,
  allowedTopics: ReadonlySet<string>,
  now: number,
): RetryAction {
  const parsed = parseMessage(raw, failedMessageSchema);
  if (!parsed.ok) return { kind: 'dead-letter', error: parsed.error };
  const envelope = parsed.value;
  if (!allowedTopics.has(envelope.topic)) {
    return {
      kind: 'dead-letter',
      error: `INVALID_MESSAGE: retry target ${envelope.topic} is not a project topic`,
    };
  }
  const ms = Date.parse(envelope.notBefore) - now;
  return ms > 0 ? { kind: 'wait', envelope, ms } : { kind: 'republish', envelope };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/**
 * Sends failed messages back to their original topic once their `notBefore` has passed, with the failure count
 * in a header so the next failure lands one attempt further. A short wait happens inline; a long one pauses the
 * partition (its position rewound to the waiting envelope) and resumes it by timer, so other partitions and the
 * group's heartbeats carry on. Envelopes in one partition are released in order.
 */
export async function runRetryConsumer(opts: RunRetryConsumerOptions): Promise<RunningConsumer> {
  const log: ConsumerLog = opts.log ?? (() => undefined);
  const now = opts.now ?? Date.now;
  const allowed = new Set(opts.allowedTopics);
  const maxInlineWaitMs = opts.maxInlineWaitMs ?? 1000;
  const maxPauseMs = opts.maxPauseMs ?? 30000;
  const timers = new Set<NodeJS.Timeout>();
  const consumer = opts.kafka.consumer({
    groupId: opts.groupId,
    sessionTimeout: 30000,
    heartbeatInterval: 3000,
    allowAutoTopicCreation: false,
    // a stop waits for the fetch in progress: an idle one returns within a second
    maxWaitTimeInMs: DEFAULT_MAX_WAIT_MS,
  });

  await consumer.connect();
  try {
    await subscribeWhenReady(consumer, { topics: [opts.retryTopic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently ?? 6,
      // under the envelope's correlation id (set when it was routed here): the republished message keeps it
      eachMessage: (payload) =>
        runWithCorrelation(correlationIdOf(payload.message.headers), async () => {
          const { topic, partition, message } = payload;
          const key = message.key?.toString('utf8') ?? '';
          const raw = message.value?.toString('utf8') ?? null;
          const commit = () =>
            consumer.commitOffsets([{ topic, partition, offset: nextOffset(message.offset) }]);

          let action = retryAction(raw, allowed, now());
          if (action.kind === 'wait' && action.ms <= maxInlineWaitMs) {
            await sleep(action.ms);
            action = { kind: 'republish', envelope: action.envelope };
          }
          switch (action.kind) {
            case 'dead-letter':
              log('warn', `${topic}[${partition}]@${message.offset}: ${action.error}; sent to dead-letter`);
              await opts.publisher.publish(
                opts.deadLetterTopic,
                key,
                invalidMessageEnvelope(topic, key, raw, action.error, new Date(now())),
              );
              await commit();
              return;
            case 'wait': {
              // Rewind to this envelope, stop fetching the partition, and look again when it is due.
              const resume = payload.pause();
              consumer.seek({ topic, partition, offset: message.offset });
              const timer = setTimeout(
                () => {
                  timers.delete(timer);
                  resume();
                },
                Math.min(action.ms, maxPauseMs),
              );
              timers.add(timer);
              return;
            }
            case 'republish':
              await opts.publisher.publish(
                action.envelope.topic,
                action.envelope.key,
                action.envelope.value,
                {
                  headers: { [FAILURES_HEADER]: String(action.envelope.attempt) },
                },
              );
              await commit();
              return;
          }
        }),
    });
  } catch (err) {
    await consumer.disconnect().catch(() => undefined);
    throw err;
  }

  return {
    consumer,
    stop: async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await consumer.disconnect();
    },
  };
}
