import { Global, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { OperationalCountsRepository } from '@email-core/database';
import { MetricsRegistry } from '@email-core/metrics';
import { DatabaseGauges } from './database-gauges';
import { ProducerMetrics } from './producer-metrics';
import { RealtimeLagGauge } from './realtime-lag.gauge';

/**
 * The producer's metrics (HTTP, the Graph webhook, real-time sockets, query cache), for any of its modules and
 * main.ts; and the gauges read at a scrape: from Postgres (accounts, subscriptions, outbox), from Kafka (this
 * instance's real-time group's lag).
 */
@Global()
@Module({
  providers: [
    ProducerMetrics,
    {
      provide: DatabaseGauges,
      inject: [MetricsRegistry, DataSource],
      useFactory: (registry: MetricsRegistry, ds: DataSource) =>
        new DatabaseGauges(registry, new OperationalCountsRepository(ds)),
    },
    RealtimeLagGauge,
  ],
  exports: [ProducerMetrics],
})
export class ProducerMetricsModule {}
