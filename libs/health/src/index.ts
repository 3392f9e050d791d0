export { HealthModule } from './health.module';
export { type HealthOptions } from './health.options';
export { InfrastructureModule } from './infrastructure.module';
