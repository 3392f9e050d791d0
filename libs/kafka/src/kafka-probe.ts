import { createKafka } from './kafka-client';
import { withTimeout } from './with-timeout';

export interface KafkaProbeResult {
  brokers: number;
  controller: number | null;
}

/** Asks the cluster who is in it, failing within `timeoutMs` instead of retrying for minutes. */
export async function probeKafka(brokers: string[], timeoutMs: number): Promise<KafkaProbeResult> {
  const admin = createKafka({
    brokers,
    clientId: 'email-core-health',
    connectionTimeout: Math.min(timeoutMs, 3000),
    requestTimeout: timeoutMs,
    retries: 0,
  }).admin();
  try {
    const cluster = await withTimeout(
      (async () => {
        await admin.connect();
        return admin.describeCluster();
      })(),
      timeoutMs,
      `Kafka did not answer within ${timeoutMs} ms`,
    );
    return { brokers: cluster.brokers.length, controller: cluster.controller };
  } finally {
    admin.disconnect().catch(() => undefined);
  }
}
