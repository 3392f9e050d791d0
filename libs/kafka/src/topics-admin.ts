import type { Admin, Consumer, ConsumerSubscribeTopics } from 'kafkajs';
import type { TopicSpec } from '@email-core/contracts';

export interface EnsureTopicsResult {
  created: string[];
  grown: string[];
  unchanged: string[];
}

/** Broker answers that only mean "not yet": metadata still spreading right after a broker start or a topic creation. */
const NOT_YET = new Set([
  'UNKNOWN_TOPIC_OR_PARTITION',
  'LEADER_NOT_AVAILABLE',
  'NOT_CONTROLLER',
  'NOT_LEADER_FOR_PARTITION',
]);

const NOT_YET_WORDS = [
  'This server does not host this topic-partition',
  'There is no leader for this topic-partition',
];

/** Whether `err` (or an error it wraps: kafkajs nests the last attempt's error) is a broker's "not yet". */
export function isNotYet(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth += 1) {
    const { type, cause, originalError } = e as { type?: unknown; cause?: unknown; originalError?: unknown };
    if (typeof type === 'string' && NOT_YET.has(type)) return true;
    // kafkajs sometimes keeps only the broker's words (the protocol error's message) on the error it throws
    const message = e instanceof Error ? e.message : '';
    if (NOT_YET_WORDS.some((w) => message.includes(w))) return true;
    e = cause ?? originalError;
  }
  return false;
}

export interface EnsureTopicsOptions {
  /** how long a broker's "not yet" is retried before it is thrown (a fresh broker can take seconds) */
  settleMs?: number;
  /** pause between tries */
  retryDelayMs?: number;
}

/**
 * Creates missing topics and grows partition counts that are too small. Idempotent; safe to run from several
 * processes. A freshly started broker can answer "this server does not host this topic-partition" while its
 * metadata spreads (seen on CI right after `stack:up` started Kafka): that answer is retried, the whole pass again,
 * until `settleMs` has passed.
 */
export async function ensureTopics(
  admin: Admin,
  specs: TopicSpec[],
  options: EnsureTopicsOptions = {},
): Promise<EnsureTopicsResult> {
  // the topics there before this call: one an earlier try created is still reported as created
  let before: Set<string> | undefined;
  return retryWhileNotYet(
    async () => {
      before ??= new Set(await admin.listTopics());
      return ensureTopicsOnce(admin, specs, before);
    },
    options.settleMs ?? 30_000,
    options.retryDelayMs ?? 500,
  );
}

/** `attempt` again while it fails with a broker's "not yet" (isNotYet), until `timeoutMs`; else its answer or error */
async function retryWhileNotYet<T>(
  attempt: () => Promise<T>,
  timeoutMs: number,
  retryDelayMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (!isNotYet(err) || Date.now() >= deadline) throw err;
      await new Promise((r) => setTimeout(r, retryDelayMs));
    }
  }
}

async function ensureTopicsOnce(
  admin: Admin,
  specs: TopicSpec[],
  before: ReadonlySet<string>,
): Promise<EnsureTopicsResult> {
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((s) => !existing.has(s.name));
  const result: EnsureTopicsResult = { created: [], grown: [], unchanged: [] };
  if (missing.length > 0) {
    try {
      await admin.createTopics({
        topics: missing.map((s) => ({
          topic: s.name,
          numPartitions: s.numPartitions,
          replicationFactor: s.replicationFactor,
          configEntries: s.configEntries,
        })),
        waitForLeaders: true,
      });
    } catch (err) {
      // Another process may have created them between listTopics and createTopics.
      if (!String((err as Error).message).includes('already exists')) throw err;
    }
    result.created.push(...missing.map((s) => s.name));
  }
  const present = specs.filter((s) => existing.has(s.name));
  if (present.length > 0) {
    const meta = await admin.fetchTopicMetadata({ topics: present.map((s) => s.name) });
    const counts = new Map(meta.topics.map((t) => [t.name, t.partitions.length]));
    const toGrow = present.filter((s) => (counts.get(s.name) ?? 0) < s.numPartitions);
    if (toGrow.length > 0) {
      await admin.createPartitions({
        topicPartitions: toGrow.map((s) => ({ topic: s.name, count: s.numPartitions })),
      });
      await waitForPartitions(admin, toGrow);
    }
    result.grown.push(...toGrow.map((s) => s.name));
    for (const s of present.filter((p) => !toGrow.includes(p))) {
      (before.has(s.name) ? result.unchanged : result.created).push(s.name);
    }
  }
  return result;
}

/**
 * Waits until each topic shows at least its `numPartitions` partitions (1 when not given), every one with a leader;
 * a broker's "not yet" (isNotYet: the topic or its metadata still spreading) is waited out like a partition without
 * a leader. After `createPartitions` the broker reports the old count for a moment while the new partitions'
 * metadata spreads (a clean-clone CI read 2 of 4 right after growing), and a topic an app created at boot can be
 * unknown to the broker a test asks next ("This server does not host this topic-partition", seen in CI): so a
 * caller's next step (a producer choosing a partition, a consumer's assignment) sees them all. Still not after
 * `timeoutMs` is an error; any other error is thrown at once.
 */
export async function waitForPartitions(
  admin: Pick<Admin, 'fetchTopicMetadata'>,
  topics: Array<{ name: string; numPartitions?: number }>,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let ready = false;
    try {
      const meta = await admin.fetchTopicMetadata({ topics: topics.map((s) => s.name) });
      ready = topics.every((s) => {
        const partitions = meta.topics.find((t) => t.name === s.name)?.partitions ?? [];
        return (
          partitions.length >= Math.max(1, s.numPartitions ?? 1) && partitions.every((p) => p.leader >= 0)
        );
      });
    } catch (err) {
      if (!isNotYet(err)) throw err;
    }
    if (ready) return;
    if (Date.now() >= deadline) {
      throw new Error(
        `partitions of ${topics.map((s) => s.name).join(', ')} not yet visible after ${timeoutMs} ms`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * `consumer.subscribe`, with a broker's "not yet" (isNotYet) retried until `timeoutMs`. A consumer's subscribe
 * fetches its topics' metadata on its own connection, and kafkajs does not retry UNKNOWN_TOPIC_OR_PARTITION there:
 * a clean-clone CI saw "This server does not host this topic-partition" from a subscribe right after `ensureTopics`
 * had created the topics and seen their leaders. A failed subscribe leaves the consumer's topics as they were, so it
 * can be tried again. Any other error is thrown at once.
 */
export async function subscribeWhenReady(
  consumer: Pick<Consumer, 'subscribe'>,
  subscription: ConsumerSubscribeTopics,
  timeoutMs = 30_000,
  retryDelayMs = 200,
): Promise<void> {
  await retryWhileNotYet(() => consumer.subscribe(subscription), timeoutMs, retryDelayMs);
}
