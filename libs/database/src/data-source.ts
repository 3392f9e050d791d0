import { DataSource } from 'typeorm';
import { migrations } from './migrations';
import { OutboxEntity } from './outbox/outbox.entity';
import { PreparingClient } from './prepared';

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
  /**
   * Statements marked with `prepared()` go out as named prepared statements (default). Off behind a pooler in
   * transaction mode that does not keep a connection's prepared statements (DATABASE_PREPARED_STATEMENTS=false).
   */
  preparedStatements?: boolean;
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
      // statements marked with `prepared()` go out as named prepared statements (see prepared.ts)
      ...(opts.preparedStatements === false ? {} : { Client: PreparingClient }),
      max: opts.poolSize ?? 10,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
      ...(opts.queryTimeoutMs ? { query_timeout: opts.queryTimeoutMs } : {}),
    },
  });
}
