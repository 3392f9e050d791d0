export { HealthModule } from './health.module';
export { type HealthOptions } from './health.options';
export { InfrastructureModule } from './infrastructure.module';
export { exitOnSignals, SHUTDOWN_TIMEOUT_MS } from './graceful-shutdown';
