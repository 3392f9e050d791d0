import { Global, Module } from '@nestjs/common';
import { ProducerMetrics } from './producer-metrics';

/** The producer's metrics (HTTP, real-time sockets, query cache), for any of its modules and main.ts. */
@Global()
@Module({ providers: [ProducerMetrics], exports: [ProducerMetrics] })
export class ProducerMetricsModule {}
