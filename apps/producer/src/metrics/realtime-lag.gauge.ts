import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { ProducerConfig } from '@email-core/config';
import { CONSUMER_GROUP_STEM, topicName, Topics } from '@email-core/contracts';
import { ConsumerLagReader, createKafka } from '@email-core/kafka';
import { MetricsRegistry, registerConsumerLagGauge } from '@email-core/metrics';
import { PRODUCER_CONFIG } from '../config.module';
import { realtimeGroupId } from '../realtime/realtime-events.consumer';

/** the label of this instance's real-time group: one name for every instance (the scrape's target tells them apart) */
export const REALTIME_GROUP_LABEL = `${CONSUMER_GROUP_STEM}realtime`;

/**
 * `email_core_kafka_consumer_lag{group="email-core-realtime", topic="email-core.events", partition}`: how far this
 * instance's real-time group (the events its sockets are fed from) is behind, read from the broker at a scrape
 * (at most every 5 s, its own Kafka client). The group's per-instance name is not a label: instances restart
 * under new names, and the series would pile up.
 */
@Injectable()
export class RealtimeLagGauge implements OnApplicationShutdown {
  private readonly logger = new Logger('RealtimeLagGauge');
  private readonly reader: ConsumerLagReader<string>;

  constructor(registry: MetricsRegistry, @Inject(PRODUCER_CONFIG) config: ProducerConfig) {
    const kafka = createKafka({
      brokers: config.kafka.brokers,
      clientId: `${config.kafka.clientId}-metrics`,
      connectionTimeout: 2000,
      requestTimeout: 4000,
      retries: 1,
      log: (_level, message) => this.logger.debug(`kafka: ${message}`),
    });
    this.reader = new ConsumerLagReader(kafka, {
      groups: [{ name: REALTIME_GROUP_LABEL, id: realtimeGroupId(config) }],
      topics: [{ name: Topics.events, id: topicName(config.kafka.topicPrefix, Topics.events) }],
      ttlMs: 5_000,
      timeoutMs: 5_000,
      onError: (err) =>
        this.logger.warn(
          `metrics: real-time lag not read, the last values kept: ${err instanceof Error ? err.message : String(err)}`,
        ),
    });
    registerConsumerLagGauge(registry, {
      help: "Events this producer's real-time group has still to read on a partition of the events topic (end offset minus its committed offset); read from the broker at a scrape, at most every 5 s.",
      read: () => this.reader.lags(),
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.reader.close();
  }
}
