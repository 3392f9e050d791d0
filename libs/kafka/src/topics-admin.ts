import type { Admin } from 'kafkajs';
import type { TopicSpec } from '@email-core/contracts';

export interface EnsureTopicsResult {
  created: string[];
  grown: string[];
  unchanged: string[];
}

/** Creates missing topics and grows partition counts that are too small. Idempotent; safe to run from several processes. */
export async function ensureTopics(admin: Admin, specs: TopicSpec[]): Promise<EnsureTopicsResult> {
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
    }
    result.grown.push(...toGrow.map((s) => s.name));
    result.unchanged.push(...present.filter((s) => !toGrow.includes(s)).map((s) => s.name));
  }
  return result;
}
