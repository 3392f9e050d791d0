import { z } from 'zod';
import type { Admin } from 'kafkajs';
import { failedMessageSchema, type FailedMessage } from '@email-core/contracts';
import { currentTestRun, waitFor } from '@email-core/testing';
import { runBatchConsumer, type RunBatchConsumerOptions } from './batch-consumer-runner';
import { createKafka } from './kafka-client';
import type { RunningConsumer } from './consumer-runner';
import { FAILURES_HEADER } from './failure-policy';
import { KafkaPublisher } from './publisher';
import { ensureTopics, subscribeWhenReady } from './topics-admin';

const schema = z.object({ n: z.number() }).strict();
type Work = z.infer<typeof schema>;

describe('batch consumer runner (real broker)', () => {
  const run = currentTestRun();
  const kafka = createKafka({ brokers: run.kafkaBrokers, clientId: `${run.topicPrefix}batch-it` });
  let admin: Admin;
  let publisher: KafkaPublisher;
  let suite = 0;

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
    publisher = new KafkaPublisher(kafka);
  });

  afterAll(async () => {
    await publisher.disconnect();
    await admin.disconnect();
  });

  /** A topic (one partition, so one batch holds every key) and its retry/dead-letter topics, fresh per test. */
  const setup = async () => {
    suite += 1;
    const prefix = `${run.topicPrefix}batch-it.${suite}.`;
    const names = { work: `${prefix}work`, retry: `${prefix}retry`, dead: `${prefix}dead-letter` };
    await ensureTopics(
      admin,
      Object.values(names).map((name) => ({
        name,
        numPartitions: 1,
        replicationFactor: 1,
        configEntries: [],
      })),
    );
    const failed: Array<{ topic: string; envelope: FailedMessage }> = [];
    const observer = kafka.consumer({ groupId: `${prefix}observer`, sessionTimeout: 10000 });
    await observer.connect();
    await subscribeWhenReady(observer, { topics: [names.retry, names.dead], fromBeginning: true });
    await observer.run({
      eachMessage: ({ topic, message }) => {
        failed.push({
          topic,
          envelope: failedMessageSchema.parse(JSON.parse(message.value?.toString() ?? 'null')),
        });
        return Promise.resolve();
      },
    });
    const start = (
      handleGroup: RunBatchConsumerOptions<Work>['handleGroup'],
      extra: Partial<RunBatchConsumerOptions<Work>> = {},
    ): Promise<RunningConsumer> =>
      runBatchConsumer({
        kafka,
        groupId: `${prefix}group`,
        topic: names.work,
        schema,
        publisher,
        retryTopic: names.retry,
        deadLetterTopic: names.dead,
        retry: { maxAttempts: 3, backoffMs: [100] },
        sessionTimeoutMs: 6000,
        heartbeatIntervalMs: 500,
        maxWaitTimeInMs: 200,
        handleGroup,
        ...extra,
      });
    const committed = async (): Promise<string> => {
      const offsets = await admin.fetchOffsets({ groupId: `${prefix}group`, topics: [names.work] });
      return offsets[0].partitions[0].offset;
    };
    const send = async (
      messages: Array<{ key: string; value: string; headers?: Record<string, string> }>,
    ) => {
      for (const m of messages) await publisher.publish(names.work, m.key, m.value, { headers: m.headers });
    };
    return { names, failed, observer, start, committed, send };
  };

  it('hands each key its messages of a batch together, in offset order, and commits the batch after', async () => {
    const t = await setup();
    // published before the consumer exists, so the first fetch holds all of them
    await t.send([
      { key: 'a', value: JSON.stringify({ n: 1 }) },
      { key: 'b', value: JSON.stringify({ n: 2 }) },
      { key: 'a', value: JSON.stringify({ n: 3 }) },
      { key: 'a', value: JSON.stringify({ n: 4 }) },
      { key: 'b', value: JSON.stringify({ n: 5 }) },
    ]);
    const calls: Array<{ key: string; ns: number[]; offsets: string[] }> = [];
    const consumer = await t.start((key, messages) => {
      calls.push({ key, ns: messages.map((m) => m.value.n), offsets: messages.map((m) => m.offset) });
      return Promise.resolve();
    });
    try {
      await waitFor(async () => ((await t.committed()) === '5' ? true : undefined), {
        timeoutMs: 20000,
        intervalMs: 100,
        what: 'the committed batch',
      });
      expect(calls.sort((x, y) => x.key.localeCompare(y.key))).toEqual([
        { key: 'a', ns: [1, 3, 4], offsets: ['0', '2', '3'] },
        { key: 'b', ns: [2, 5], offsets: ['1', '4'] },
      ]);
      expect(t.failed).toEqual([]);
    } finally {
      await consumer.stop();
      await t.observer.disconnect();
    }
  });

  it("a failing key's messages go to the retry topic one by one (dead-letter after their last attempt); other keys and invalid messages never block", async () => {
    const t = await setup();
    await t.send([
      { key: 'bad', value: JSON.stringify({ n: 1 }) },
      { key: 'good', value: '{not json' },
      { key: 'good', value: JSON.stringify({ n: 2 }) },
      // already failed twice: this delivery is its last attempt
      { key: 'bad', value: JSON.stringify({ n: 3 }), headers: { [FAILURES_HEADER]: '2' } },
      { key: 'good', value: JSON.stringify({ n: 99, extra: true }) },
    ]);
    const handled: string[] = [];
    const consumer = await t.start((key, messages) => {
      if (key === 'bad') return Promise.reject(new Error('mailbox unreachable'));
      handled.push(...messages.map((m) => `${key}:${m.value.n}`));
      return Promise.resolve();
    });
    try {
      await waitFor(async () => ((await t.committed()) === '5' && t.failed.length >= 4 ? true : undefined), {
        timeoutMs: 20000,
        intervalMs: 100,
        what: 'the committed batch and the failed messages',
      });
      expect(handled).toEqual(['good:2']);
      const retried = t.failed.filter((f) => f.topic === t.names.retry).map((f) => f.envelope);
      const dead = t.failed.filter((f) => f.topic === t.names.dead).map((f) => f.envelope);
      expect(retried).toEqual([
        expect.objectContaining({
          key: 'bad',
          value: JSON.stringify({ n: 1 }),
          attempt: 1,
          error: 'mailbox unreachable',
          topic: t.names.work,
        }),
      ]);
      expect(dead.map((d) => [d.key, d.attempt, d.error.split(':')[0]]).sort()).toEqual([
        ['bad', 3, 'mailbox unreachable'],
        ['good', 1, 'INVALID_MESSAGE'],
        ['good', 1, 'INVALID_MESSAGE'],
      ]);
      expect(Date.parse(retried[0].notBefore) - Date.parse(retried[0].failedAt)).toBe(100);
    } finally {
      await consumer.stop();
      await t.observer.disconnect();
    }
  });

  it('groupOf groups by what the value names; a failed group keeps each message under its own key', async () => {
    const t = await setup();
    await t.send([
      { key: 'k1', value: JSON.stringify({ n: 1 }) },
      { key: 'k2', value: JSON.stringify({ n: 11 }) },
      { key: 'k3', value: JSON.stringify({ n: 2 }) },
    ]);
    const calls: Array<{ group: string; ns: number[] }> = [];
    const consumer = await t.start(
      (group, messages) => {
        calls.push({ group, ns: messages.map((m) => m.value.n) });
        return group === 'tens' ? Promise.reject(new Error('no')) : Promise.resolve();
      },
      { groupOf: (value) => (value.n >= 10 ? 'tens' : 'ones') },
    );
    try {
      await waitFor(async () => ((await t.committed()) === '3' && t.failed.length >= 1 ? true : undefined), {
        timeoutMs: 20000,
        intervalMs: 100,
        what: 'the committed batch',
      });
      expect(calls.sort((x, y) => x.group.localeCompare(y.group))).toEqual([
        { group: 'ones', ns: [1, 2] },
        { group: 'tens', ns: [11] },
      ]);
      expect(t.failed.map((f) => [f.topic, f.envelope.key, f.envelope.attempt])).toEqual([
        [t.names.retry, 'k2', 1],
      ]);
    } finally {
      await consumer.stop();
      await t.observer.disconnect();
    }
  });

  it('a slow key holds up only itself: other keys of its batch and later batches go on; the commit waits for it', async () => {
    const t = await setup();
    await t.send([
      { key: 'slow', value: JSON.stringify({ n: 1 }) },
      { key: 'b', value: JSON.stringify({ n: 2 }) },
    ]);
    const handled: string[] = [];
    let release: () => void = () => undefined;
    const slow = new Promise<void>((r) => (release = r));
    const consumer = await t.start(async (key, messages) => {
      if (key === 'slow') await slow;
      handled.push(...messages.map((m) => `${key}:${m.value.n}`));
    });
    try {
      await waitFor(() => Promise.resolve(handled.includes('b:2') ? true : undefined), {
        timeoutMs: 20000,
        intervalMs: 50,
        what: 'the other key of the batch',
      });
      await t.send([{ key: 'c', value: JSON.stringify({ n: 3 }) }]);
      await waitFor(() => Promise.resolve(handled.includes('c:3') ? true : undefined), {
        timeoutMs: 20000,
        intervalMs: 50,
        what: 'a key of a later batch',
      });
      // nothing past the slow key's message is committed while its call runs
      expect(['-1', '0']).toContain(await t.committed());
      release();
      await waitFor(async () => ((await t.committed()) === '3' ? true : undefined), {
        timeoutMs: 20000,
        intervalMs: 100,
        what: 'the commit past the slow key',
      });
      expect(handled).toEqual(['b:2', 'c:3', 'slow:1']);
    } finally {
      release();
      await consumer.stop();
      await t.observer.disconnect();
    }
  });

  it('background messages go after the others, in calls of their own, in at most a quarter of the calls: a backlog of them holds up nothing else', async () => {
    const t = await setup();
    // background: n >= 100
    await t.send([
      { key: 'bg1', value: JSON.stringify({ n: 101 }) },
      { key: 'bg2', value: JSON.stringify({ n: 102 }) },
      { key: 'bg3', value: JSON.stringify({ n: 103 }) },
      { key: 'live', value: JSON.stringify({ n: 1 }) },
      { key: 'bg1', value: JSON.stringify({ n: 2 }) },
    ]);
    const started: string[] = [];
    const handled: string[] = [];
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    const consumer = await t.start(
      async (key, messages) => {
        const call = `${key}:${messages.map((m) => m.value.n).join(',')}`;
        started.push(call);
        if (messages[0].value.n >= 100) await held;
        handled.push(call);
      },
      { groupsConcurrently: 2, isBackground: (v) => v.n >= 100 },
    );
    try {
      await waitFor(() => Promise.resolve(handled.length >= 2 ? true : undefined), {
        timeoutMs: 20000,
        intervalMs: 50,
        what: 'the messages that are not background',
      });
      await new Promise((r) => setTimeout(r, 500));
      // the others first, bg1's own in a call of its own; then one background call at a time (of 2 calls)
      expect(started.slice(0, 2)).toEqual(['live:1', 'bg1:2']);
      expect(started.slice(2)).toEqual([expect.stringMatching(/^bg\d:10\d$/)]);
      release();
      await waitFor(async () => ((await t.committed()) === '5' ? true : undefined), {
        timeoutMs: 20000,
        intervalMs: 100,
        what: 'every message handled and committed',
      });
      expect([...handled].sort()).toEqual(['bg1:101', 'bg1:2', 'bg2:102', 'bg3:103', 'live:1']);
    } finally {
      release();
      await consumer.stop();
      await t.observer.disconnect();
    }
  });

  it("a key's messages that arrive while its call runs go, all together, to one more call right after it", async () => {
    const t = await setup();
    await t.send([{ key: 'a', value: JSON.stringify({ n: 1 }) }]);
    const calls: number[][] = [];
    const running: boolean[] = [];
    let release: () => void = () => undefined;
    const first = new Promise<void>((r) => (release = r));
    const consumer = await t.start(async (_key, messages) => {
      running.push(true);
      calls.push(messages.map((m) => m.value.n));
      if (calls.length === 1) await first;
      running.pop();
      expect(running).toEqual([]); // one call of a key at a time
    });
    try {
      await waitFor(() => Promise.resolve(calls.length === 1 ? true : undefined), {
        timeoutMs: 20000,
        intervalMs: 50,
        what: 'the first call',
      });
      await t.send([
        { key: 'a', value: JSON.stringify({ n: 2 }) },
        { key: 'a', value: JSON.stringify({ n: 3 }) },
      ]);
      await new Promise((r) => setTimeout(r, 1500)); // fetched meanwhile, waiting for the running call
      expect(calls).toEqual([[1]]);
      release();
      await waitFor(async () => ((await t.committed()) === '3' ? true : undefined), {
        timeoutMs: 20000,
        intervalMs: 100,
        what: 'the second call committed',
      });
      expect(calls).toEqual([[1], [2, 3]]);
      expect(t.failed).toEqual([]);
    } finally {
      release();
      await consumer.stop();
      await t.observer.disconnect();
    }
  });

  it('a stop during a round abandons the batch uncommitted and unretried; the next member gets it again', async () => {
    const t = await setup();
    await t.send([{ key: 'a', value: JSON.stringify({ n: 1 }) }]);
    const deliveries: Array<{ member: string; aborted?: boolean }> = [];
    let entered: () => void = () => undefined;
    const first = new Promise<void>((r) => (entered = r));
    const a = await t.start(async (_key, _messages, ctx) => {
      const delivery: { member: string; aborted?: boolean } = { member: 'a' };
      deliveries.push(delivery);
      entered();
      await new Promise<void>((resolve) => {
        ctx.signal.addEventListener('abort', () => resolve());
        setTimeout(resolve, 30000).unref();
      });
      delivery.aborted = ctx.signal.aborted;
      throw new Error('gave up');
    });
    await first;
    await a.stop();
    expect(deliveries).toEqual([{ member: 'a', aborted: true }]);
    expect(await t.committed()).toBe('-1');

    const b = await t.start((_key, messages) => {
      deliveries.push({ member: 'b' });
      expect(messages[0].attempt).toBe(1); // a redelivery, not a retry
      return Promise.resolve();
    });
    try {
      await waitFor(async () => ((await t.committed()) === '1' ? true : undefined), {
        timeoutMs: 20000,
        intervalMs: 100,
        what: 'the second member to commit',
      });
      expect(deliveries.map((d) => d.member)).toEqual(['a', 'b']);
      expect(t.failed).toEqual([]);
    } finally {
      await b.stop();
      await t.observer.disconnect();
    }
  });
});
