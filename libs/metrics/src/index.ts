export { METRIC_PREFIX, MetricsRegistry } from './metrics-registry';
export { MetricsModule } from './metrics.module';
export { type MetricsOptions } from './metrics.options';
export { MetricsTokenGuard } from './metrics-token.guard';
export { parseExposition, sumOf, type Sample } from './exposition';
export { NO_ANSWER, ProviderMetrics, statusLabel, type ProviderRequestObserver } from './provider-metrics';
export { registerConsumerLagGauge, type LagSample } from './consumer-lag-gauge';
