import { randomUUID } from 'node:crypto';
import { projectTopics } from '@email-core/contracts';
import { currentTestRun, waitFor } from '@email-core/testing';
import { createKafka } from './kafka-client';
import { ensureTopics, subscribeWhenReady } from './topics-admin';

describe('Kafka (real broker)', () => {
  const run = currentTestRun();
  const kafka = createKafka({ brokers: run.kafkaBrokers, clientId: `${run.topicPrefix}it` });
  const admin = kafka.admin();

  beforeAll(() => admin.connect());
  afterAll(() => admin.disconnect());

  it('the run owns every project topic, each with the configured partitions', async () => {
    const names = projectTopics({ prefix: run.topicPrefix, partitions: 6, replicationFactor: 1 }).map(
      (t) => t.name,
    );
    const meta = await admin.fetchTopicMetadata({ topics: names });
    expect(meta.topics.map((t) => t.name).sort()).toEqual([...names].sort());
    for (const t of meta.topics) expect(t.partitions).toHaveLength(6);
  });

  it('ensureTopics is idempotent and grows a topic that has too few partitions', async () => {
    const name = `${run.topicPrefix}it.grow`;
    const spec = (n: number) => [{ name, numPartitions: n, replicationFactor: 1, configEntries: [] }];
    expect((await ensureTopics(admin, spec(2))).created).toEqual([name]);
    expect((await ensureTopics(admin, spec(2))).unchanged).toEqual([name]);
    expect((await ensureTopics(admin, spec(4))).grown).toEqual([name]);
    const meta = await admin.fetchTopicMetadata({ topics: [name] });
    expect(meta.topics[0].partitions).toHaveLength(4);
  });

  it('a consumer group reads back every message produced across several partitions, and commits its offsets', async () => {
    const topic = `${run.topicPrefix}it.roundtrip`;
    await ensureTopics(admin, [{ name: topic, numPartitions: 6, replicationFactor: 1, configEntries: [] }]);
    const count = 120;
    const sent = Array.from({ length: count }, (_, i) => ({ key: `account-${i % 24}`, value: randomUUID() }));

    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: sent });
    await producer.disconnect();

    const groupId = `${run.topicPrefix}it.group`;
    const consumer = kafka.consumer({ groupId, sessionTimeout: 10000, heartbeatInterval: 1000 });
    const received: Array<{ key: string; value: string; partition: number }> = [];
    await consumer.connect();
    await subscribeWhenReady(consumer, { topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: ({ message, partition }) => {
        received.push({ key: String(message.key), value: String(message.value), partition });
        return Promise.resolve();
      },
    });
    await waitFor(() => Promise.resolve(received.length >= count ? true : undefined), {
      timeoutMs: 30000,
      what: `${count} messages`,
    });
    await consumer.disconnect();

    expect(received.map((r) => r.value).sort()).toEqual(sent.map((s) => s.value).sort());
    const partitions = new Set(received.map((r) => r.partition));
    expect(partitions.size).toBeGreaterThan(1);
    // One key always lands on one partition: per-account ordering holds.
    const byKey = new Map<string, Set<number>>();
    for (const r of received) byKey.set(r.key, (byKey.get(r.key) ?? new Set()).add(r.partition));
    for (const set of byKey.values()) expect(set.size).toBe(1);

    const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
    const committed = offsets[0].partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
    expect(committed).toBe(count);
  });
});
