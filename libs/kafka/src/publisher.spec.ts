import { randomUUID } from 'node:crypto';
import { Partitioners, type Kafka, type PartitionMetadata } from 'kafkajs';
import { KafkaPublisher, memoizedKeyPartitioner } from './publisher';

const metadata = (n: number): PartitionMetadata[] =>
  Array.from({ length: n }, (_, partitionId) => ({
    partitionId,
    leader: 0,
    partitionErrorCode: 0,
    replicas: [0],
    isr: [0],
  }));

describe('memoizedKeyPartitioner', () => {
  it("answers what kafkajs' DefaultPartitioner answers, for every key, topic and partition count, asked again or not", () => {
    const plain = Partitioners.DefaultPartitioner();
    const memo = memoizedKeyPartitioner(Partitioners.DefaultPartitioner)();
    const keys = Array.from({ length: 200 }, () => randomUUID());
    for (const n of [1, 6, 7, 48])
      for (const topic of ['a', 'b'])
        for (const key of [...keys, ...keys]) {
          const args = { topic, partitionMetadata: metadata(n), message: { key, value: 'x' } };
          expect(memo(args)).toBe(plain(args));
        }
  });

  it('leaves an explicit partition, a Buffer key and a missing key to the inner partitioner', () => {
    const calls: unknown[] = [];
    const memo = memoizedKeyPartitioner(() => (args) => {
      calls.push(args.message.key);
      return 3;
    })();
    const partitionMetadata = metadata(6);
    expect(memo({ topic: 't', partitionMetadata, message: { key: 'k', value: 'x', partition: 5 } })).toBe(3);
    expect(memo({ topic: 't', partitionMetadata, message: { key: Buffer.from('k'), value: 'x' } })).toBe(3);
    expect(memo({ topic: 't', partitionMetadata, message: { value: 'x' } })).toBe(3);
    expect(calls).toHaveLength(3);
    // a string key is asked once
    memo({ topic: 't', partitionMetadata, message: { key: 'k', value: 'x' } });
    memo({ topic: 't', partitionMetadata, message: { key: 'k', value: 'y' } });
    expect(calls).toHaveLength(4);
  });
});

describe('KafkaPublisher', () => {
  /** a producer whose requests are answered when the test says */
  function fakeProducer() {
    const requests: Array<{ topics: Record<string, string[]>; answer: (err?: Error) => void }> = [];
    const request = (topics: Record<string, string[]>) =>
      new Promise<void>((resolve, reject) => {
        requests.push({ topics, answer: (err) => (err ? reject(err) : resolve()) });
      });
    const values = (messages: Array<{ value: string }>) => messages.map((m) => m.value);
    const producer = {
      connect: () => Promise.resolve(),
      send: ({ topic, messages }: { topic: string; messages: Array<{ value: string }> }) =>
        request({ [topic]: values(messages) }),
      sendBatch: ({
        topicMessages,
      }: {
        topicMessages: Array<{ topic: string; messages: Array<{ value: string }> }>;
      }) => request(Object.fromEntries(topicMessages.map((t) => [t.topic, values(t.messages)]))),
    };
    const publisher = new KafkaPublisher({ producer: () => producer } as unknown as Kafka);
    return { publisher, requests };
  }
  const tick = () => new Promise((r) => setImmediate(r));

  it('sends what was published while a request was in flight in one request, in order', async () => {
    const { publisher, requests } = fakeProducer();
    const first = publisher.publish('a', 'k1', '1');
    await tick();
    const rest = [
      publisher.publish('a', 'k2', '2'),
      publisher.publish('b', 'k1', '3'),
      publisher.publish('a', 'k1', '4'),
    ];
    await tick();
    expect(requests.map((r) => r.topics)).toEqual([{ a: ['1'] }]);
    requests[0].answer();
    await first;
    await tick();
    expect(requests.map((r) => r.topics)).toEqual([{ a: ['1'] }, { a: ['2', '4'], b: ['3'] }]);
    requests[1].answer();
    await Promise.all(rest);
  });

  it('tries each send of a failed request alone, so a failure is only its own', async () => {
    const { publisher, requests } = fakeProducer();
    const first = publisher.publish('a', 'k', '1');
    await tick();
    const ok = publisher.publish('a', 'k', '2');
    const bad = publisher.publish('a', 'k', '3');
    requests[0].answer();
    await first;
    await tick();
    requests[1].answer(new Error('MESSAGE_TOO_LARGE'));
    await tick();
    expect(requests[2].topics).toEqual({ a: ['2'] });
    requests[2].answer();
    await ok;
    await tick();
    expect(requests[3].topics).toEqual({ a: ['3'] });
    requests[3].answer(new Error('MESSAGE_TOO_LARGE'));
    await expect(bad).rejects.toThrow('MESSAGE_TOO_LARGE');
  });
});
