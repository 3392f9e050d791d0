import type { FailedMessage } from '@email-core/contracts';
import { currentTestRun, waitFor } from '@email-core/testing';
import { FAILURES_HEADER } from './failure-policy';
import { createKafka } from './kafka-client';
import { KafkaPublisher } from './publisher';
import { runRetryConsumer } from './retry-consumer';
import { ensureTopics, subscribeWhenReady } from './topics-admin';

describe('retry consumer (real broker)', () => {
  const run = currentTestRun();
  const prefix = `${run.topicPrefix}rc-it.`;
  const retryTopic = `${prefix}retry`;
  const target = `${prefix}target`;
  const deadLetter = `${prefix}dead-letter`;
  const kafka = createKafka({ brokers: run.kafkaBrokers, clientId: `${prefix}it` });

  const envelope = (key: string, notBefore: number, attempt = 1): string =>
    JSON.stringify({
      type: 'message.failed',
      v: 1,
      topic: target,
      key,
      value: `{"key":"${key}"}`,
      attempt,
      error: 'boom',
      failedAt: new Date().toISOString(),
      notBefore: new Date(notBefore).toISOString(),
    } satisfies FailedMessage);

  it('holds an envelope until it is due without holding up other partitions, in order within its partition', async () => {
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [
      { name: retryTopic, numPartitions: 2, replicationFactor: 1, configEntries: [] },
      { name: target, numPartitions: 1, replicationFactor: 1, configEntries: [] },
      { name: deadLetter, numPartitions: 1, replicationFactor: 1, configEntries: [] },
    ]);
    await admin.disconnect();

    const arrived: Array<{ key: string; value: string; failures: string; at: number }> = [];
    const observer = kafka.consumer({
      groupId: `${prefix}observer`,
      sessionTimeout: 10000,
      heartbeatInterval: 1000,
    });
    await observer.connect();
    await subscribeWhenReady(observer, { topics: [target], fromBeginning: true });
    await observer.run({
      eachMessage: ({ message }) => {
        arrived.push({
          key: String(message.key),
          value: String(message.value),
          failures: String(message.headers?.[FAILURES_HEADER]),
          at: Date.now(),
        });
        return Promise.resolve();
      },
    });

    const publisher = new KafkaPublisher(kafka);
    const retry = await runRetryConsumer({
      kafka,
      groupId: `${prefix}retry`,
      retryTopic,
      deadLetterTopic: deadLetter,
      publisher,
      allowedTopics: [target],
      maxInlineWaitMs: 0,
      maxPauseMs: 500,
    });
    const producer = kafka.producer();
    await producer.connect();
    try {
      const t0 = Date.now();
      await producer.send({
        topic: retryTopic,
        messages: [
          { partition: 0, key: 'late', value: envelope('late', t0 + 2500, 2) },
          { partition: 0, key: 'after-late', value: envelope('after-late', t0) },
          { partition: 1, key: 'due', value: envelope('due', t0) },
        ],
      });
      await waitFor(async () => Promise.resolve(arrived.length >= 3 ? true : undefined), {
        timeoutMs: 20000,
        intervalMs: 50,
        what: 'three re-published messages',
      });
      expect(arrived.map((a) => a.key)).toEqual(['due', 'late', 'after-late']);
      const by = new Map(arrived.map((a) => [a.key, a]));
      expect((by.get('late')?.at ?? 0) - t0).toBeGreaterThanOrEqual(2400);
      expect((by.get('due')?.at ?? Infinity) - t0).toBeLessThan(2400);
      expect(by.get('late')).toMatchObject({ value: '{"key":"late"}', failures: '2' });
      expect(by.get('due')?.failures).toBe('1');
    } finally {
      await producer.disconnect();
      await retry.stop();
      await publisher.disconnect();
      await observer.disconnect();
    }
  });
});
