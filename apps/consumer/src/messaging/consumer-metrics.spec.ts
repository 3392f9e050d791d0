import type { Logger } from '@nestjs/common';
import type { Kafka } from 'kafkajs';
import type { ConsumerConfig } from '@email-core/config';
import { Topics, WORK_TOPICS } from '@email-core/contracts';
import type { KafkaPublisher, KafkaWorker, RunningConsumer } from '@email-core/kafka';
import { MetricsRegistry, parseExposition, sumOf } from '@email-core/metrics';
import { ConsumerMetrics } from './consumer-metrics';
import type { KafkaTopics } from './kafka-topics';
import type { KafkaWorkers } from './kafka-workers';
import type { PartitionAssignments } from './partition-assignments';
import { TopicConsumers, type SharedConsumerOptions } from './topic-consumers';

const MESSAGES = 'email_core_kafka_messages_total';

function metrics() {
  const registry = new MetricsRegistry({ defaultMetrics: false });
  return {
    consumer: new ConsumerMetrics(registry),
    samples: async () => parseExposition(await registry.metrics()),
  };
}

describe('ConsumerMetrics', () => {
  it("has every work topic's outcomes at 0 from the start, by the topic's logical name", async () => {
    const m = metrics();
    const samples = (await m.samples()).filter((s) => s.name === MESSAGES);
    expect(samples).toHaveLength(WORK_TOPICS.length * 3);
    for (const s of samples) {
      expect(WORK_TOPICS).toContain(s.labels.topic);
      expect(['handled', 'retried', 'dead_lettered']).toContain(s.labels.outcome);
      expect(s.value).toBe(0);
    }
  });

  it('counts messages written by provider (nothing for an empty page) and rounds by provider and source', async () => {
    const m = metrics();
    m.consumer.syncMessagesWritten('outlook', 500);
    m.consumer.syncMessagesWritten('outlook', 0);
    m.consumer.syncMessagesWritten('imap', 3);
    m.consumer.mirrorRound('outlook', 'webhook');
    m.consumer.mirrorRound('imap', 'mixed');
    const s = await m.samples();
    expect(sumOf(s, 'email_core_sync_messages_written_total', { provider: 'outlook' })).toBe(500);
    expect(sumOf(s, 'email_core_sync_messages_written_total', { provider: 'imap' })).toBe(3);
    expect(sumOf(s, 'email_core_mirror_rounds_total', { provider: 'outlook', source: 'webhook' })).toBe(1);
    expect(sumOf(s, 'email_core_mirror_rounds_total', { provider: 'imap', source: 'mixed' })).toBe(1);
  });
});

describe('TopicConsumers: every worker reports its outcomes', () => {
  it("under the topic's logical name, whatever the deployment's prefix", async () => {
    const m = metrics();
    const added: KafkaWorker[] = [];
    const consumers = new TopicConsumers(
      {} as Kafka,
      {
        consumers: { retry: { maxAttempts: 3, backoffMs: [0] }, sessionTimeoutMs: 10_000 },
      } as ConsumerConfig,
      {} as KafkaPublisher,
      {
        name: (t: string) => `run-42.${t}`,
        group: (g: string) => `run-42.${g}`,
        ready: () => Promise.resolve(true),
      } as unknown as KafkaTopics,
      { add: (w: KafkaWorker) => (added.push(w), w) } as unknown as KafkaWorkers,
      { update: () => undefined } as unknown as PartitionAssignments,
      m.consumer,
    );
    let shared: SharedConsumerOptions | undefined;
    consumers.worker({
      name: 'sync-requests consumer',
      logger: { log: () => undefined, warn: () => undefined, error: () => undefined } as unknown as Logger,
      group: 'sync',
      topic: Topics.syncRequests,
      start: (s) => {
        shared = s;
        return Promise.resolve({} as RunningConsumer);
      },
    });
    // the worker's start, as KafkaWorker calls it once the topics are ready
    await (added[0] as unknown as { opts: { start: () => Promise<RunningConsumer> } }).opts.start();
    expect(shared?.topic).toBe(`run-42.${Topics.syncRequests}`);
    shared?.onOutcome?.('handled', 4);
    shared?.onOutcome?.('dead_lettered', 1);
    const s = await m.samples();
    expect(sumOf(s, MESSAGES, { topic: Topics.syncRequests, outcome: 'handled' })).toBe(4);
    expect(sumOf(s, MESSAGES, { topic: Topics.syncRequests, outcome: 'dead_lettered' })).toBe(1);
    expect(s.filter((x) => x.name === MESSAGES && x.labels.topic.startsWith('run-42'))).toEqual([]);
  });
});
