import type { Kafka } from 'kafkajs';
import { waitFor } from './wait-for';

/**
 * Waits until every partition of `topics` has a leader. An isolated product creates its topics at boot, and a test
 * that subscribes right after can be ahead of the broker's metadata: kafkajs then fails the subscribe with "This
 * server does not host this topic-partition" (seen in CI).
 */
export async function waitForTopics(kafka: Kafka, topics: string[], timeoutMs = 30_000): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await waitFor(
      async () => {
        try {
          const md = await admin.fetchTopicMetadata({ topics });
          const ready = md.topics.every(
            (t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0),
          );
          return ready ? true : undefined;
        } catch {
          return undefined;
        }
      },
      { timeoutMs, intervalMs: 250, what: `the topics ${topics.join(', ')}` },
    );
  } finally {
    await admin.disconnect();
  }
}
