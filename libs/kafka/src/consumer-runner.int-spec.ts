import { z } from 'zod';
import { currentTestRun, waitFor } from '@email-core/testing';
import { createKafka } from './kafka-client';
import { runConsumer, type RunningConsumer } from './consumer-runner';
import { KafkaPublisher } from './publisher';
import { ensureTopics } from './topics-admin';

describe('consumer runner (real broker)', () => {
  const run = currentTestRun();
  const prefix = `${run.topicPrefix}runner-it.`;
  const topic = `${prefix}work`;
  const kafka = createKafka({ brokers: run.kafkaBrokers, clientId: `${prefix}it` });

  it('a long handler gives its partition up at a rebalance: nothing committed, nothing retried, delivered again', async () => {
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [{ name: topic, numPartitions: 1, replicationFactor: 1, configEntries: [] }]);

    const publisher = new KafkaPublisher(kafka);
    const published: string[] = [];
    jest.spyOn(publisher, 'publish').mockImplementation((t: string) => {
      published.push(t);
      return Promise.resolve();
    });
    const deliveries: Array<{ member: string; attempt: number; aborted?: boolean }> = [];
    const member = (name: string): Promise<RunningConsumer> =>
      runConsumer({
        kafka,
        groupId: `${prefix}group`,
        topic,
        schema: z.object({ n: z.number() }),
        publisher,
        retryTopic: `${prefix}retry`,
        deadLetterTopic: `${prefix}dead-letter`,
        retry: { maxAttempts: 3, backoffMs: [100] },
        sessionTimeoutMs: 6000,
        heartbeatIntervalMs: 500,
        handle: async (_message, ctx) => {
          const delivery: { member: string; attempt: number; aborted?: boolean } = {
            member: name,
            attempt: ctx.attempt,
          };
          deliveries.push(delivery);
          if (deliveries.length > 1) return; // the second delivery completes
          // the first one is a "long sync": it runs until the group takes the partition away
          await new Promise<void>((resolve) => {
            ctx.signal.addEventListener('abort', () => resolve());
            setTimeout(resolve, 30000).unref();
          });
          delivery.aborted = ctx.signal.aborted;
          throw new Error('gave up');
        },
      });

    const a = await member('a');
    let b: RunningConsumer | undefined;
    const producer = kafka.producer();
    await producer.connect();
    try {
      await producer.send({ topic, messages: [{ key: 'acct', value: JSON.stringify({ n: 1 }) }] });
      await waitFor(async () => Promise.resolve(deliveries.length >= 1 ? true : undefined), {
        timeoutMs: 15000,
        intervalMs: 50,
        what: 'the first delivery',
      });
      b = await member('b');
      await waitFor(async () => Promise.resolve(deliveries.length >= 2 ? true : undefined), {
        timeoutMs: 20000,
        intervalMs: 50,
        what: 'the second delivery',
      });
      expect(deliveries[0]).toMatchObject({ member: 'a', attempt: 1, aborted: true });
      expect(deliveries[1].attempt).toBe(1); // a redelivery, not a retry
      expect(published).toEqual([]);
      await waitFor(
        async () => {
          const offsets = await admin.fetchOffsets({ groupId: `${prefix}group`, topics: [topic] });
          return offsets[0].partitions[0].offset === '1' ? true : undefined;
        },
        { timeoutMs: 10000, intervalMs: 100, what: 'the committed offset' },
      );
    } finally {
      await producer.disconnect();
      await Promise.all([a.stop(), b?.stop()]);
      await admin.disconnect();
    }
  });
});
