import { randomUUID } from 'node:crypto';
import type { Kafka, Message } from 'kafkajs';
import { CORRELATION_ID_HEADER, type MailboxPoke } from '@email-core/contracts';
import { KafkaPublisher } from '@email-core/kafka';
import { runWithCorrelation } from '@email-core/logging';
import { testProducerConfig } from '@email-core/testing';
import { WebhookPublisher } from './webhook-publisher';

const poke = (): MailboxPoke => ({
  type: 'mailbox.poke',
  v: 1,
  accountId: randomUUID(),
  source: 'webhook',
  changes: [{ kind: 'created', messageId: 'm1' }],
  receivedAt: '2026-03-01T10:00:00.000Z',
});

describe('WebhookPublisher: correlation ids through the group commit', () => {
  it("gives each poke its own request's id, when requests share one produce request", async () => {
    const sends: Message[][] = [];
    let release: () => void = () => undefined;
    const producer = {
      connect: () => Promise.resolve(),
      disconnect: () => Promise.resolve(),
      send: async ({ messages }: { messages: Message[] }) => {
        sends.push(messages);
        // the first send stays in flight until released: the next requests queue and leave together
        if (sends.length === 1) await new Promise<void>((r) => (release = r));
        return [];
      },
    };
    const kafka = { producer: () => producer } as unknown as Kafka;
    const publisher = new WebhookPublisher(
      new KafkaPublisher(kafka),
      testProducerConfig({ KAFKA_TOPIC_PREFIX: 'unit.' }),
    );
    const request = (id: string, n: number) =>
      runWithCorrelation(id, () =>
        publisher.publishPokes(
          Array.from({ length: n }, () => poke()),
          300 * n,
        ),
      );
    const first = request('req-a', 1);
    await new Promise((r) => setImmediate(r));
    const later = [request('req-b', 2), request('req-c', 1)];
    await new Promise((r) => setImmediate(r));
    release();
    await Promise.all([first, ...later]);
    expect(sends.map((batch) => batch.map((m) => m.headers?.[CORRELATION_ID_HEADER]))).toEqual([
      ['req-a'],
      ['req-b', 'req-b', 'req-c'],
    ]);
  });
});
