import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Admin } from 'kafkajs';
import { createKafka, withTimeout } from '@email-core/kafka';
import { HEALTH_OPTIONS, type HealthOptions } from './health.options';

/**
 * The health check's one Kafka client: an admin connected once and kept, so a probe is one metadata request on
 * an open connection. (Issue 16: a fresh admin per `/health` call meant a TCP connection and handshake per
 * probe, and 300 concurrent probes reported Kafka down on a healthy stack.) When a probe fails, the client is
 * dropped and the next probe connects afresh, so a broker that comes back is seen again.
 */
@Injectable()
export class KafkaReadiness implements OnApplicationShutdown {
  private admin: Admin | undefined;
  private connected: Promise<void> | undefined;

  constructor(@Inject(HEALTH_OPTIONS) private readonly options: HealthOptions) {}

  /** the brokers in the cluster; rejects within the timeout when Kafka does not answer */
  async probe(): Promise<{ brokers: number }> {
    const { timeoutMs } = this.options;
    const admin = (this.admin ??= createKafka({
      brokers: this.options.kafkaBrokers,
      clientId: 'email-core-health',
      connectionTimeout: Math.min(timeoutMs, 3000),
      requestTimeout: timeoutMs,
      retries: 0,
    }).admin());
    const connected = (this.connected ??= admin.connect());
    try {
      const cluster = await withTimeout(
        connected.then(() => admin.describeCluster()),
        timeoutMs,
        `Kafka did not answer within ${timeoutMs} ms`,
      );
      return { brokers: cluster.brokers.length };
    } catch (err) {
      this.drop(admin);
      throw err;
    }
  }

  onApplicationShutdown(): Promise<void> {
    const admin = this.admin;
    if (!admin) return Promise.resolve();
    this.drop(admin);
    return admin.disconnect().catch(() => undefined);
  }

  private drop(admin: Admin): void {
    if (this.admin !== admin) return;
    this.admin = undefined;
    this.connected?.catch(() => undefined);
    this.connected = undefined;
    admin.disconnect().catch(() => undefined);
  }
}
