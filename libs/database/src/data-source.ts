import { DataSource } from 'typeorm';
import { migrations } from './migrations';
import { OutboxEntity } from './outbox/outbox.entity';

export const entities = [OutboxEntity];

export interface DataSourceOptions {
  url: string;
  poolSize?: number;
  applicationName?: string;
  connectTimeoutMs?: number;
  /**
   * A read-only connection (the streaming replica): no entities, migrations or extension installs, which a hot
   * standby would refuse; a query slower than `queryTimeoutMs` fails (the read side then asks the primary).
   */
  readOnly?: boolean;
  queryTimeoutMs?: number;
}

/** The product's one way to build a TypeORM DataSource. `synchronize` is off: the schema only changes through migrations. */
export function createDataSource(opts: DataSourceOptions): DataSource {
  return new DataSource({
    type: 'postgres',
    url: opts.url,
    entities: opts.readOnly ? [] : entities,
    migrations: opts.readOnly ? [] : migrations,
    installExtensions: !opts.readOnly,
    synchronize: false,
    migrationsRun: false,
    migrationsTableName: 'migrations',
    applicationName: opts.applicationName ?? 'email-core',
    extra: {
      max: opts.poolSize ?? 10,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
      ...(opts.queryTimeoutMs ? { query_timeout: opts.queryTimeoutMs } : {}),
    },
  });
}
