import { DataSource } from 'typeorm';
import { migrations } from './migrations';
import { OutboxEntity } from './outbox/outbox.entity';

export const entities = [OutboxEntity];

export interface DataSourceOptions {
  url: string;
  poolSize?: number;
  applicationName?: string;
  connectTimeoutMs?: number;
}

/** The product's one way to build a TypeORM DataSource. `synchronize` is off: the schema only changes through migrations. */
export function createDataSource(opts: DataSourceOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url: opts.url,
    entities,
    migrations,
    synchronize: false,
    migrationsRun: false,
    migrationsTableName: 'migrations',
    applicationName: opts.applicationName ?? 'email-core',
    extra: {
      max: opts.poolSize ?? 10,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
    },
  });
}
