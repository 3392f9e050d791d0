import type { Gauge } from 'prom-client';
import type { MetricsRegistry } from './metrics-registry';

/** one partition's lag as a lag reader gives it (libs/kafka's ConsumerLagReader) */
export interface LagSample {
  group: string;
  topic: string;
  partition: number;
  lag: number;
}

/**
 * `email_core_kafka_consumer_lag{group, topic, partition}`, read at each scrape from `read` (which answers undefined
 * when it has nothing, the last values are then kept). Groups and topics are logical names, so the series are a
 * bounded set: groups x partitions, whatever the number of accounts.
 */
export function registerConsumerLagGauge(
  registry: MetricsRegistry,
  opts: { help: string; read: () => Promise<readonly LagSample[] | undefined> },
): void {
  const gauge: Gauge<'group' | 'topic' | 'partition'> = registry.gauge({
    name: 'kafka_consumer_lag',
    help: opts.help,
    labelNames: ['group', 'topic', 'partition'],
    collect: async () => {
      const lags = await opts.read();
      if (!lags) return;
      gauge.reset();
      for (const l of lags)
        gauge.set({ group: l.group, topic: l.topic, partition: String(l.partition) }, l.lag);
    },
  });
}
