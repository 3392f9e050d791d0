import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Admin, Kafka } from 'kafkajs';
import type { Gauge } from 'prom-client';
import type { ConsumerConfig } from '@email-core/config';
import { ConsumerGroups, topicName, Topics, type TopicName } from '@email-core/contracts';
import { withTimeout } from '@email-core/kafka';
import { MetricsRegistry } from '@email-core/metrics';
import { CONSUMER_CONFIG, KAFKA } from './messaging.tokens';

/** a scrape asks the broker at most this often; scrapes in between get the last answer */
export const KAFKA_LAG_TTL_MS = 5_000;
/** the broker's answers for one scrape, all together; past it the last values stay */
const ADMIN_TIMEOUT_MS = 5_000;

/** one partition's lag of one of the consumer's groups (names without the deployment's prefix) */
export interface PartitionLag {
  group: string;
  topic: TopicName;
  partition: number;
  lag: number;
}

/**
 * What the broker says, reduced to lags: for each group, each partition it has committed an offset on,
 * `end offset - committed` (never negative: a commit can land between the two reads). Partitions a group has
 * not committed on (topics it does not read) give nothing. Pure, so the arithmetic is tested without Kafka.
 */
export function partitionLags(
  ends: ReadonlyMap<TopicName, ReadonlyArray<{ partition: number; high: string }>>,
  committed: ReadonlyArray<{
    group: string;
    topics: ReadonlyArray<{
      topic: TopicName;
      partitions: ReadonlyArray<{ partition: number; offset: string }>;
    }>;
  }>,
): PartitionLag[] {
  const out: PartitionLag[] = [];
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

/**
 * `email_core_kafka_consumer_lag{group, topic, partition}`: messages the consumer's groups have still to read, from
 * the broker's end offsets and the groups' committed offsets, asked for when scraped (at most every 5 s, one admin
 * connection kept). Groups and topics are the product's own, by their logical names (the deployment's prefix is
 * not a label); partitions are the topics' partitions: a bounded set whatever the number of accounts.
 */
@Injectable()
export class KafkaLagGauge implements OnApplicationShutdown {
  private readonly logger = new Logger('KafkaLagGauge');
  private readonly prefix: string;
  private admin: Promise<Admin> | undefined;
  private cached: { at: number; lags: Promise<PartitionLag[] | undefined> } | undefined;
  private last: PartitionLag[] | undefined;

  constructor(
    registry: MetricsRegistry,
    @Inject(CONSUMER_CONFIG) config: ConsumerConfig,
    @Inject(KAFKA) private readonly kafka: Kafka,
  ) {
    this.prefix = config.kafka.topicPrefix;
    const gauge: Gauge<'group' | 'topic' | 'partition'> = registry.gauge({
      name: 'kafka_consumer_lag',
      help: "Messages a consumer group has still to read on a partition (end offset minus the group's committed offset), by group and topic (logical names) and partition; read from the broker at a scrape, at most every 5 s.",
      labelNames: ['group', 'topic', 'partition'],
      collect: async () => {
        const lags = await this.lags();
        if (!lags) return;
        gauge.reset();
        for (const l of lags)
          gauge.set({ group: l.group, topic: l.topic, partition: String(l.partition) }, l.lag);
      },
    });
  }

  private lags(): Promise<PartitionLag[] | undefined> {
    const now = Date.now();
    if (this.cached && now - this.cached.at < KAFKA_LAG_TTL_MS) return this.cached.lags;
    const lags = withTimeout(this.read(), ADMIN_TIMEOUT_MS, 'Kafka admin did not answer in time').then(
      (l) => (this.last = l),
      (err: unknown) => {
        this.dropAdmin();
        this.logger.warn(
          `metrics: consumer lag not read, the last values kept: ${err instanceof Error ? err.message : String(err)}`,
        );
        return this.last;
      },
    );
    this.cached = { at: now, lags };
    return lags;
  }

  private async read(): Promise<PartitionLag[]> {
    const admin = await this.connected();
    const present = new Set(await admin.listTopics());
    const topics = (Object.values(Topics) as TopicName[]).filter((t) =>
      present.has(topicName(this.prefix, t)),
    );
    if (topics.length === 0) return [];
    const ends = new Map(
      await Promise.all(
        topics.map(async (t) => [t, await admin.fetchTopicOffsets(topicName(this.prefix, t))] as const),
      ),
    );
    const byName = new Map(topics.map((t) => [topicName(this.prefix, t), t]));
    const committed = await Promise.all(
      Object.values(ConsumerGroups).map(async (group) => {
        const offsets = await admin.fetchOffsets({
          groupId: `${this.prefix}${group}`,
          topics: [...byName.keys()],
        });
        return {
          group,
          topics: offsets.flatMap((o) => {
            const topic = byName.get(o.topic);
            return topic ? [{ topic, partitions: o.partitions }] : [];
          }),
        };
      }),
    );
    return partitionLags(ends, committed);
  }

  private connected(): Promise<Admin> {
    this.admin ??= (async () => {
      const admin = this.kafka.admin();
      await admin.connect();
      return admin;
    })();
    const current = this.admin;
    void current.catch(() => {
      if (this.admin === current) this.admin = undefined;
    });
    return current;
  }

  private dropAdmin(): void {
    const admin = this.admin;
    this.admin = undefined;
    void admin?.then((a) => a.disconnect()).catch(() => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    await admin?.then((a) => a.disconnect()).catch(() => undefined);
  }
}
