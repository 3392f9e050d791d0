import type { Kafka } from 'kafkajs';
import { z } from 'zod';
import { runBatchConsumer } from './batch-consumer-runner';
import { runConsumer, type MessageOutcome } from './consumer-runner';
import { FAILURES_HEADER, PermanentFailure } from './failure-policy';
import type { KafkaPublisher } from './publisher';

/** kafkajs' consumer as the runners drive it, with the handler they register captured */
function fakeKafka() {
  const registered: {
    eachMessage?: (p: unknown) => Promise<void>;
    eachBatch?: (p: unknown) => Promise<void>;
  } = {};
  const consumer = {
    events: { GROUP_JOIN: 'consumer.group_join' },
    on: () => undefined,
    connect: () => Promise.resolve(),
    subscribe: () => Promise.resolve(),
    disconnect: () => Promise.resolve(),
    run: (cfg: typeof registered) => {
      Object.assign(registered, cfg);
      return Promise.resolve();
    },
    commitOffsets: () => Promise.resolve(),
    seek: () => undefined,
  };
  return { kafka: { consumer: () => consumer } as unknown as Kafka, registered };
}

const publisher = {
  publish: () => Promise.resolve(),
  publishMany: () => Promise.resolve(),
} as unknown as KafkaPublisher;

const message = (offset: number, key: string, value: unknown, failures = 0) => ({
  offset: String(offset),
  key: Buffer.from(key),
  value: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
  headers: failures > 0 ? { [FAILURES_HEADER]: String(failures) } : {},
});

const schema = z.object({ n: z.number() });
const common = {
  groupId: 'g',
  topic: 't',
  schema,
  publisher,
  retryTopic: 'retry',
  deadLetterTopic: 'dead',
  retry: { maxAttempts: 3, backoffMs: [0] },
};

function tally() {
  const counts: Record<MessageOutcome, number> = { handled: 0, retried: 0, dead_lettered: 0 };
  return { counts, onOutcome: (o: MessageOutcome, n: number) => (counts[o] += n) };
}

describe('what the runners report of each message (onOutcome, for metrics)', () => {
  it('runConsumer: handled, retried, dead-lettered (last attempt, permanent, unreadable)', async () => {
    const { kafka, registered } = fakeKafka();
    const { counts, onOutcome } = tally();
    await runConsumer({
      ...common,
      kafka,
      onOutcome,
      handle: ({ n }) => {
        if (n === 1) return Promise.resolve();
        if (n === 3) return Promise.reject(new PermanentFailure('no'));
        return Promise.reject(new Error('boom'));
      },
    });
    const deliver = (m: ReturnType<typeof message>) =>
      registered.eachMessage!({ topic: 't', partition: 0, message: m, heartbeat: () => Promise.resolve() });
    await deliver(message(0, 'a', { n: 1 }));
    await deliver(message(1, 'a', { n: 1 }));
    await deliver(message(2, 'a', { n: 2 })); // first failure: retry
    await deliver(message(3, 'a', { n: 2 }, 2)); // third delivery, the last: dead letter
    await deliver(message(4, 'a', { n: 3 })); // permanent: dead letter
    await deliver(message(5, 'a', 'not json')); // unreadable: dead letter
    expect(counts).toEqual({ handled: 2, retried: 1, dead_lettered: 3 });
  });

  it('a listener that throws changes nothing for the message', async () => {
    const { kafka, registered } = fakeKafka();
    const handled: number[] = [];
    await runConsumer({
      ...common,
      kafka,
      onOutcome: () => {
        throw new Error('metrics broke');
      },
      handle: ({ n }) => {
        handled.push(n);
        return Promise.resolve();
      },
    });
    await expect(
      registered.eachMessage!({
        topic: 't',
        partition: 0,
        message: message(0, 'a', { n: 7 }),
        heartbeat: () => Promise.resolve(),
      }),
    ).resolves.toBeUndefined();
    expect(handled).toEqual([7]);
  });

  it('runBatchConsumer: every message of a handled group, each of a failed group by its own route', async () => {
    const { kafka, registered } = fakeKafka();
    const { counts, onOutcome } = tally();
    const running = await runBatchConsumer({
      ...common,
      kafka,
      onOutcome,
      handleGroup: (key) => (key === 'ok' ? Promise.resolve() : Promise.reject(new Error('boom'))),
    });
    await registered.eachBatch!({
      batch: {
        topic: 't',
        partition: 0,
        messages: [
          message(0, 'ok', { n: 1 }),
          message(1, 'ok', { n: 2 }),
          message(2, 'bad', { n: 3 }), // first delivery: retry
          message(3, 'bad', { n: 4 }, 2), // the last attempt: dead letter
          message(4, 'bad', 'not json'), // unreadable: dead letter
        ],
      },
      heartbeat: () => Promise.resolve(),
      isRunning: () => true,
    });
    for (let i = 0; i < 100 && counts.handled + counts.retried + counts.dead_lettered < 5; i += 1) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(counts).toEqual({ handled: 2, retried: 1, dead_lettered: 2 });
    await running.stop();
  });
});
