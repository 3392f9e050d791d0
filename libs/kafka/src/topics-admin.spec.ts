import type { Admin } from 'kafkajs';
import type { TopicSpec } from '@email-core/contracts';
import { ensureTopics, isNotYet, subscribeWhenReady, waitForPartitions } from './topics-admin';

const spec = (name: string): TopicSpec => ({
  name,
  numPartitions: 3,
  replicationFactor: 1,
  configEntries: [],
});

/** kafkajs's shape of a broker's answer: a protocol error wrapped by the retrier */
const brokerSays = (type: string, words = 'This server does not host this topic-partition') =>
  Object.assign(new Error(words), {
    name: 'KafkaJSNumberOfRetriesExceeded',
    cause: Object.assign(new Error(words), {
      name: 'KafkaJSProtocolError',
      type,
    }),
  });

/** A broker with `topics`; createTopics fails `failures` times with UNKNOWN_TOPIC_OR_PARTITION after creating. */
function broker(topics: string[], failures: number) {
  const present = new Set(topics);
  let left = failures;
  const calls = { createTopics: 0 };
  const admin: Pick<Admin, 'listTopics' | 'createTopics' | 'fetchTopicMetadata' | 'createPartitions'> = {
    listTopics: () => Promise.resolve([...present]),
    createTopics: ({ topics: wanted }) => {
      calls.createTopics += 1;
      for (const t of wanted) present.add(t.topic);
      if (left > 0) {
        left -= 1;
        return Promise.reject(brokerSays('UNKNOWN_TOPIC_OR_PARTITION'));
      }
      return Promise.resolve(true);
    },
    fetchTopicMetadata: (opts) =>
      Promise.resolve({
        topics: (opts?.topics ?? []).map((name) => ({
          name,
          partitions: [0, 1, 2].map((partitionId) => ({
            partitionErrorCode: 0,
            partitionId,
            leader: 0,
            replicas: [0],
            isr: [0],
          })),
        })),
      }),
    createPartitions: () => Promise.resolve(true),
  };
  return { admin: admin as Admin, calls };
}

describe('ensureTopics', () => {
  it("retries a fresh broker's 'does not host this topic-partition' and reports what it created", async () => {
    const { admin, calls } = broker(['old'], 2);
    const result = await ensureTopics(admin, [spec('old'), spec('a'), spec('b')], { retryDelayMs: 1 });
    expect(calls.createTopics).toBe(1); // the second try finds a and b there
    expect(result).toEqual({ created: ['a', 'b'], grown: [], unchanged: ['old'] });
  });

  it('gives up after settleMs and throws the broker answer', async () => {
    const { admin } = broker([], 0);
    admin.createTopics = () => Promise.reject(brokerSays('UNKNOWN_TOPIC_OR_PARTITION'));
    await expect(ensureTopics(admin, [spec('a')], { settleMs: 30, retryDelayMs: 5 })).rejects.toThrow(
      'does not host this topic-partition',
    );
  });

  it('returns from growing a topic only once the broker shows every new partition with a leader', async () => {
    const { admin } = broker(['old'], 0);
    // the broker answers the old count twice after createPartitions, then the grown one (metadata spreading)
    const counts = [3, 3, 3, 6];
    let grownAt = -1;
    let reads = 0;
    admin.createPartitions = () => {
      grownAt = reads;
      return Promise.resolve(true);
    };
    admin.fetchTopicMetadata = (opts) => {
      const n = counts[Math.min(reads, counts.length - 1)];
      reads += 1;
      return Promise.resolve({
        topics: (opts?.topics ?? []).map((name) => ({
          name,
          partitions: Array.from({ length: n }, (_, partitionId) => ({
            partitionErrorCode: 0,
            partitionId,
            leader: 0,
            replicas: [0],
            isr: [0],
          })),
        })),
      });
    };
    const result = await ensureTopics(admin, [{ ...spec('old'), numPartitions: 6 }], { retryDelayMs: 1 });
    expect(result.grown).toEqual(['old']);
    expect(grownAt).toBe(1); // grown after the first read showed 3 of 6
    expect(reads).toBe(4); // then read until all 6 were there
  });

  it('throws any other failure at once', async () => {
    const { admin, calls } = broker([], 0);
    admin.createTopics = () => Promise.reject(new Error('Invalid replication factor'));
    await expect(ensureTopics(admin, [spec('a')], { retryDelayMs: 1 })).rejects.toThrow(
      'Invalid replication factor',
    );
    expect(calls.createTopics).toBe(0);
  });

  it('tells a "not yet" from other errors, however deep kafkajs wraps it', () => {
    expect(isNotYet(brokerSays('LEADER_NOT_AVAILABLE'))).toBe(true);
    expect(isNotYet(brokerSays('TOPIC_AUTHORIZATION_FAILED', 'Not authorized to access topics'))).toBe(false);
    expect(isNotYet(new Error('boom'))).toBe(false);
    expect(isNotYet(new Error('This server does not host this topic-partition'))).toBe(true);
    expect(isNotYet(undefined)).toBe(false);
  });
});

describe('waitForPartitions', () => {
  /** metadata answers in turn: an error to throw, or each topic's partitions with their leaders */
  function answers(steps: Array<Error | number[]>) {
    let reads = 0;
    const admin: Pick<Admin, 'fetchTopicMetadata'> = {
      fetchTopicMetadata: (opts) => {
        const step = steps[Math.min(reads, steps.length - 1)];
        reads += 1;
        if (step instanceof Error) return Promise.reject(step);
        return Promise.resolve({
          topics: (opts?.topics ?? []).map((name) => ({
            name,
            partitions: step.map((leader, partitionId) => ({
              partitionErrorCode: 0,
              partitionId,
              leader,
              replicas: [0],
              isr: [0],
            })),
          })),
        });
      },
    };
    return { admin, reads: () => reads };
  }

  it('waits out a topic the broker does not know yet and partitions without a leader', async () => {
    const broker = answers([brokerSays('UNKNOWN_TOPIC_OR_PARTITION'), [], [0, -1], [0, 0]]);
    await waitForPartitions(broker.admin, [{ name: 'a' }, { name: 'b' }]);
    expect(broker.reads()).toBe(4);
  });

  it('waits for the partition count asked for', async () => {
    const broker = answers([
      [0, 0],
      [0, 0, 0, 0],
    ]);
    await waitForPartitions(broker.admin, [{ name: 'a', numPartitions: 4 }]);
    expect(broker.reads()).toBe(2);
  });

  it('throws any other error at once, and a "not yet" that outlasts the time allowed', async () => {
    const refused = answers([brokerSays('TOPIC_AUTHORIZATION_FAILED', 'Not authorized to access topics')]);
    await expect(waitForPartitions(refused.admin, [{ name: 'a' }])).rejects.toThrow('Not authorized');
    expect(refused.reads()).toBe(1);
    const never = answers([brokerSays('LEADER_NOT_AVAILABLE')]);
    await expect(waitForPartitions(never.admin, [{ name: 'a' }], 250)).rejects.toThrow(
      'partitions of a not yet visible after 250 ms',
    );
  });
});

describe('subscribeWhenReady', () => {
  /** a consumer whose subscribe answers `answers` in turn (an Error is thrown), then succeeds */
  const consumer = (answers: Error[]) => {
    let calls = 0;
    return {
      calls: () => calls,
      subscribe: () => {
        const answer = answers[calls];
        calls += 1;
        return answer ? Promise.reject(answer) : Promise.resolve();
      },
    };
  };

  it("subscribes again after a broker's 'does not host this topic-partition'", async () => {
    const c = consumer([brokerSays('UNKNOWN_TOPIC_OR_PARTITION'), brokerSays('LEADER_NOT_AVAILABLE')]);
    await subscribeWhenReady(c, { topics: ['a'] }, 5000, 1);
    expect(c.calls()).toBe(3);
  });

  it('throws any other error at once, and a "not yet" that outlasts the time allowed', async () => {
    const refused = consumer([brokerSays('TOPIC_AUTHORIZATION_FAILED', 'Not authorized to access topics')]);
    await expect(subscribeWhenReady(refused, { topics: ['a'] }, 5000, 1)).rejects.toThrow('Not authorized');
    expect(refused.calls()).toBe(1);
    const never = consumer(Array.from({ length: 1000 }, () => brokerSays('UNKNOWN_TOPIC_OR_PARTITION')));
    await expect(subscribeWhenReady(never, { topics: ['a'] }, 50, 5)).rejects.toThrow('does not host');
    expect(never.calls()).toBeGreaterThan(1);
  });
});
