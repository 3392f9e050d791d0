import { randomUUID } from 'node:crypto';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { memoizedKeyPartitioner } from './publisher';

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
