export { createDataSource, entities, type DataSourceOptions } from './data-source';
export { runMigrationsLocked } from './migrate';
export { migrations } from './migrations';
export { probePostgres } from './postgres-probe';
export { OutboxEntity } from './outbox/outbox.entity';
export { OutboxRepository, type OutboxMessage, type PendingOutboxMessage } from './outbox/outbox.repository';
export { DatabaseModule, DatabaseState, type DatabaseModuleOptions } from './database.module';
