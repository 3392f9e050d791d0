import type { Kafka } from 'kafkajs';
import { LazyAdmin } from './lazy-admin';
import { withTimeout } from './with-timeout';

/** one partition's lag of a consumer group (names as the caller gives them: logical, without a prefix) */
export interface PartitionLag<T extends string = string> {
  group: string;
  topic: T;
  partition: number;
  lag: number;
}

/**
 * What the broker says, reduced to lags: for each group, each partition it has committed an offset on,
 * `end offset - committed` (never negative: a commit can land between the two reads). Partitions a group has
 * not committed on (topics it does not read) give nothing. Pure, so the arithmetic is tested without Kafka.
 */
export function partitionLags<T extends string>(
  ends: ReadonlyMap<T, ReadonlyArray<{ partition: number; high: string }>>,
  committed: ReadonlyArray<{
    group: string;
    topics: ReadonlyArray<{
      topic: T;
      partitions: ReadonlyArray<{ partition: number; offset: string }>;
    }>;
  }>,
): Array<PartitionLag<T>> {
  const out: Array<PartitionLag<T>> = [];
  for (const g of committed) {
    for (const t of g.topics) {
      const highs = new Map((ends.get(t.topic) ?? []).map((p) => [p.partition, Number(p.high)]));
      for (const p of t.partitions) {
        const at = Number(p.offset);
        const end = highs.get(p.partition);
        if (at < 0 || end === undefined) continue;
        out.push({ group: g.group, topic: t.topic, partition: p.partition, lag: Math.max(0, end - at) });
      }
    }
  }
  return out;
}

/** a group or topic: the name it is labelled with (logical) and the one the broker knows (prefixed) */
export interface LagName<T extends string = string> {
  name: T;
  id: string;
}

/**
 * Reads consumer groups' lags from the broker, for a metric read at each scrape: one admin connection kept, the
 * answer cached `ttlMs` (so scrapes cost at most one read per TTL), the broker's answers bounded by `timeoutMs`;
 * when a read fails the last lags are given again (and `onError` told), the connection dropped and made anew
 * next time. Only topics the broker has are asked about.
 */
export class ConsumerLagReader<T extends string> {
  private readonly admin: LazyAdmin;
  private cached: { at: number; lags: Promise<Array<PartitionLag<T>> | undefined> } | undefined;
  private last: Array<PartitionLag<T>> | undefined;

  constructor(
    kafka: Kafka,
    private readonly opts: {
      groups: ReadonlyArray<LagName>;
      topics: ReadonlyArray<LagName<T>>;
      ttlMs: number;
      timeoutMs: number;
      onError?: (err: unknown) => void;
      now?: () => number;
    },
  ) {
    this.admin = new LazyAdmin(kafka);
  }

  lags(): Promise<Array<PartitionLag<T>> | undefined> {
    const now = (this.opts.now ?? Date.now)();
    if (this.cached && now - this.cached.at < this.opts.ttlMs) return this.cached.lags;
    const lags = withTimeout(this.read(), this.opts.timeoutMs, 'Kafka admin did not answer in time').then(
      (l) => (this.last = l),
      (err: unknown) => {
        this.admin.drop();
        this.opts.onError?.(err);
        return this.last;
      },
    );
    this.cached = { at: now, lags };
    return lags;
  }

  private async read(): Promise<Array<PartitionLag<T>>> {
    const admin = await this.admin.get();
    const present = new Set(await admin.listTopics());
    const topics = this.opts.topics.filter((t) => present.has(t.id));
    if (topics.length === 0) return [];
    const ends = new Map(
      await Promise.all(topics.map(async (t) => [t.name, await admin.fetchTopicOffsets(t.id)] as const)),
    );
    const byId = new Map(topics.map((t) => [t.id, t.name]));
    const committed = await Promise.all(
      this.opts.groups.map(async (group) => {
        const offsets = await admin.fetchOffsets({ groupId: group.id, topics: [...byId.keys()] });
        return {
          group: group.name,
          topics: offsets.flatMap((o) => {
            const topic = byId.get(o.topic);
            return topic === undefined ? [] : [{ topic, partitions: o.partitions }];
          }),
        };
      }),
    );
    return partitionLags(ends, committed);
  }

  /** disconnects the admin client (at shutdown) */
  close(): Promise<void> {
    return this.admin.close();
  }
}
