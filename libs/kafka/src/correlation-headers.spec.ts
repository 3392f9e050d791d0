import type { Kafka, Message } from 'kafkajs';
import { z } from 'zod';
import { CORRELATION_ID_HEADER } from '@email-core/contracts';
import { currentCorrelationId, runWithCorrelation, runWithRequestId } from '@email-core/logging';
import { runBatchConsumer } from './batch-consumer-runner';
import { correlationHeaders, correlationIdOf } from './correlation-headers';
import { runConsumer } from './consumer-runner';
import { KafkaPublisher } from './publisher';
import { runRetryConsumer } from './retry-consumer';

/** kafkajs as the publisher and the runners drive it: what is sent is recorded, the registered handler captured */
function fakeKafka() {
  const sent: Array<{ topic: string; messages: Message[] }> = [];
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
  const producer = {
    connect: () => Promise.resolve(),
    disconnect: () => Promise.resolve(),
    send: (record: { topic: string; messages: Message[] }) => {
      sent.push({ topic: record.topic, messages: record.messages });
      return Promise.resolve([]);
    },
  };
  const kafka = { consumer: () => consumer, producer: () => producer } as unknown as Kafka;
  return { kafka, sent, registered };
}

const idOf = (m: Message) => m.headers?.[CORRELATION_ID_HEADER];
const ID_A = 'webhook-0a1b2c';
const ID_B = 'webhook-3d4e5f';

const message = (offset: number, key: string, value: unknown, correlationId?: string) => ({
  offset: String(offset),
  key: Buffer.from(key),
  value: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
  // as kafkajs hands them over: Buffers
  headers: correlationId === undefined ? {} : { [CORRELATION_ID_HEADER]: Buffer.from(correlationId) },
});

describe('correlationIdOf / correlationHeaders', () => {
  it("reads a message's x-correlation-id (Buffer, string or the first of several) and refuses a malformed one", () => {
    expect(correlationIdOf({ [CORRELATION_ID_HEADER]: Buffer.from(ID_A) })).toBe(ID_A);
    expect(correlationIdOf({ [CORRELATION_ID_HEADER]: ID_A })).toBe(ID_A);
    expect(correlationIdOf({ [CORRELATION_ID_HEADER]: [Buffer.from(ID_A), ID_B] })).toBe(ID_A);
    expect(correlationIdOf({ [CORRELATION_ID_HEADER]: Buffer.from('a b\nforged line') })).toBeUndefined();
    expect(correlationIdOf({ [CORRELATION_ID_HEADER]: Buffer.from('x'.repeat(129)) })).toBeUndefined();
    expect(correlationIdOf({})).toBeUndefined();
    expect(correlationIdOf(undefined)).toBeUndefined();
  });

  it('writes the header for an id, and nothing without one', () => {
    expect(correlationHeaders(ID_A)).toEqual({ [CORRELATION_ID_HEADER]: ID_A });
    expect(correlationHeaders(undefined)).toEqual({});
  });
});

describe('KafkaPublisher: the x-correlation-id header', () => {
  it("gives every message the current work's id, lets a message name its own, and adds none outside any work", async () => {
    const { kafka, sent } = fakeKafka();
    const publisher = new KafkaPublisher(kafka);
    await runWithCorrelation(ID_A, () =>
      publisher.publishMany(
        't',
        [
          { key: 'k1', value: { n: 1 } },
          { key: 'k2', value: { n: 2 }, headers: correlationHeaders(ID_B) },
        ],
        { headers: { other: 'kept' } },
      ),
    );
    await publisher.publish('t', 'k3', { n: 3 });
    // an HTTP request's work runs under its correlation id (the request log middleware sets it to the request's id)
    await runWithRequestId('req-7', () =>
      runWithCorrelation('req-7', () => publisher.publish('t', 'k4', { n: 4 })),
    );
    await runWithRequestId('req-7', () =>
      runWithCorrelation(ID_A, () => publisher.publish('t', 'k5', { n: 5 })),
    );
    expect(sent.map((s) => s.messages.map((m) => m.headers))).toEqual([
      [
        { [CORRELATION_ID_HEADER]: ID_A, other: 'kept' },
        { [CORRELATION_ID_HEADER]: ID_B, other: 'kept' },
      ],
      [{}],
      [{ [CORRELATION_ID_HEADER]: 'req-7' }],
      [{ [CORRELATION_ID_HEADER]: ID_A }],
    ]);
  });
});

describe('the runners run each message under its correlation id', () => {
  const schema = z.object({ n: z.number() });
  const common = {
    groupId: 'g',
    topic: 't',
    schema,
    retryTopic: 'retry',
    deadLetterTopic: 'dead',
    retry: { maxAttempts: 3, backoffMs: [0] },
  };

  it("runConsumer: the handler sees the message's id (a fresh one when it has none), and so do its publishes and its retry", async () => {
    const { kafka, sent, registered } = fakeKafka();
    const publisher = new KafkaPublisher(kafka);
    const seen: Array<string | undefined> = [];
    await runConsumer({
      ...common,
      kafka,
      publisher,
      handle: async ({ n }) => {
        seen.push(currentCorrelationId());
        // what a handler publishes (a domain event) carries the id without being told
        await publisher.publish('events', 'k', { n });
        if (n === 2) throw new Error('boom');
      },
    });
    const deliver = (m: ReturnType<typeof message>) =>
      registered.eachMessage!({ topic: 't', partition: 0, message: m, heartbeat: () => Promise.resolve() });
    await deliver(message(0, 'a', { n: 1 }, ID_A));
    await deliver(message(1, 'a', { n: 2 }, ID_B)); // fails: routed to the retry topic
    await deliver(message(2, 'a', { n: 3 })); // no header: a fresh id
    expect(seen.slice(0, 2)).toEqual([ID_A, ID_B]);
    expect(seen[2]).toMatch(/^[0-9a-f-]{36}$/);
    expect(currentCorrelationId()).toBeUndefined();
    expect(sent.map((s) => [s.topic, idOf(s.messages[0])])).toEqual([
      ['events', ID_A],
      ['events', ID_B],
      ['retry', ID_B],
      ['events', seen[2]],
    ]);
  });

  it("runBatchConsumer: a group's call runs under its first message's id and logs the others; each failed message is routed with its own", async () => {
    const { kafka, sent, registered } = fakeKafka();
    const publisher = new KafkaPublisher(kafka);
    const calls: Array<{ key: string; id: string | undefined; n: number[] }> = [];
    const logged: string[] = [];
    const running = await runBatchConsumer({
      ...common,
      kafka,
      publisher,
      log: (_level, text) => logged.push(`${currentCorrelationId()}: ${text}`),
      handleGroup: async (key, messages) => {
        calls.push({ key, id: currentCorrelationId(), n: messages.map((m) => m.value.n) });
        await publisher.publish('events', key, { n: messages.length });
        if (key === 'bad') throw new Error('boom');
      },
    });
    await registered.eachBatch!({
      batch: {
        topic: 't',
        partition: 0,
        messages: [
          message(0, 'ok', { n: 1 }, ID_A),
          message(1, 'ok', { n: 2 }, ID_B),
          message(2, 'bad', { n: 3 }, ID_B),
          message(3, 'bad', { n: 4 }, ID_A),
        ],
      },
      heartbeat: () => Promise.resolve(),
      isRunning: () => true,
    });
    for (let i = 0; i < 100 && !sent.some((s) => s.topic === 'retry'); i += 1) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    await running.stop();
    expect(calls).toEqual([
      { key: 'ok', id: ID_A, n: [1, 2] },
      { key: 'bad', id: ID_B, n: [3, 4] },
    ]);
    expect(logged).toContain(`${ID_A}: group ok: 2 messages in one call, also for correlation ids ${ID_B}`);
    expect(logged).toContain(`${ID_B}: group bad: 2 messages in one call, also for correlation ids ${ID_A}`);
    const events = sent.filter((s) => s.topic === 'events').map((s) => idOf(s.messages[0]));
    expect(events.sort()).toEqual([ID_A, ID_B].sort());
    const retried = sent.filter((s) => s.topic === 'retry').flatMap((s) => s.messages.map(idOf));
    expect(retried).toEqual([ID_B, ID_A]);
  });

  it("runRetryConsumer: the message sent back to its topic keeps the envelope's id", async () => {
    const { kafka, sent, registered } = fakeKafka();
    await runRetryConsumer({
      kafka,
      groupId: 'g',
      retryTopic: 'retry',
      deadLetterTopic: 'dead',
      publisher: new KafkaPublisher(kafka),
      allowedTopics: ['t'],
    });
    const envelope = {
      type: 'message.failed',
      v: 1,
      topic: 't',
      key: 'a',
      value: JSON.stringify({ n: 1 }),
      attempt: 1,
      error: 'boom',
      failedAt: new Date(0).toISOString(),
      notBefore: new Date(0).toISOString(),
    };
    await registered.eachMessage!({
      topic: 'retry',
      partition: 0,
      message: message(0, 'a', envelope, ID_A),
      heartbeat: () => Promise.resolve(),
      pause: () => () => undefined,
    });
    expect(sent).toHaveLength(1);
    expect(sent[0].topic).toBe('t');
    expect(idOf(sent[0].messages[0])).toBe(ID_A);
  });
});
