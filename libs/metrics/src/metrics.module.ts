import { Global, Module, type DynamicModule } from '@nestjs/common';
import { MetricsController } from './metrics.controller';
import { MetricsRegistry } from './metrics-registry';
import { MetricsTokenGuard } from './metrics-token.guard';
import { ProviderMetrics } from './provider-metrics';
import { METRICS_OPTIONS, type MetricsOptions } from './metrics.options';

/**
 * `GET /metrics` (Prometheus text format, behind `METRICS_TOKEN` when set) and the process's one MetricsRegistry,
 * global so any provider can define its metrics through it; and ProviderMetrics (mail providers' requests), which
 * GraphLibModule reports to. Imported once per app (InfrastructureModule does it
 * for the producer and the consumer).
 */
@Global()
@Module({})
export class MetricsModule {
  static forRoot(options: MetricsOptions = {}): DynamicModule {
    return {
      module: MetricsModule,
      controllers: [MetricsController],
      providers: [
        { provide: METRICS_OPTIONS, useValue: options },
        {
          provide: MetricsRegistry,
          useFactory: () => new MetricsRegistry({ defaultMetrics: options.defaultMetrics }),
        },
        MetricsTokenGuard,
        {
          provide: ProviderMetrics,
          inject: [MetricsRegistry],
          useFactory: (r: MetricsRegistry) => new ProviderMetrics(r),
        },
      ],
      exports: [MetricsRegistry, ProviderMetrics],
    };
  }
}
