import {
  Global,
  Inject,
  Logger,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { createDataSource, type DataSourceOptions } from './data-source';
import { runMigrationsLocked } from './migrate';
import { ReadReplica, type ReadReplicaOptions } from './read-replica/read-replica';
import { MailAccountTokensRepository } from './accounts/mail-account-tokens.repository';
import { OutboxRepository } from './outbox/outbox.repository';
import { RefreshSessionsRepository } from './users/refresh-sessions.repository';
import { UsersRepository } from './users/users.repository';

export interface DatabaseModuleOptions extends DataSourceOptions {
  /** Run pending migrations (under the advisory lock) once connected. */
  migrationsRun: boolean;
  /** Delay between connection attempts while Postgres is unreachable. */
  retryDelayMs?: number;
  /**
   * The streaming replica the query side reads (DATABASE_READ_URL), its pool size and when it serves no reads;
   * absent: every read goes to the primary (ReadReplica routes all of them there).
   */
  read?: { url: string; poolSize: number; queryTimeoutMs?: number } & Partial<ReadReplicaOptions>;
}

const DATABASE_OPTIONS = Symbol('DATABASE_OPTIONS');

/** What the process knows about its database; the health check reports it. */
export class DatabaseState {
  migrated = false;
  lastError: string | null = null;
}

/**
 * Connects (and migrates) in the background, retrying while Postgres is away, so the process boots,
 * its health endpoint answers and reports the database as down instead of the process hanging at start.
 */
class DatabaseConnector implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Database');
  private stopped = false;
  private connecting: Promise<void> | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly state: DatabaseState,
    @Inject(DATABASE_OPTIONS) private readonly options: DatabaseModuleOptions,
  ) {}

  onApplicationBootstrap(): void {
    this.connecting = this.connectLoop();
  }

  private async connectLoop(): Promise<void> {
    while (!this.stopped) {
      try {
        if (!this.dataSource.isInitialized) await this.dataSource.initialize();
        if (this.options.migrationsRun) await runMigrationsLocked(this.dataSource, (m) => this.logger.log(m));
        this.state.migrated = true;
        this.state.lastError = null;
        return;
      } catch (err) {
        this.state.lastError = (err as Error).message;
        this.logger.warn(`database not ready: ${this.state.lastError}; retrying`);
        await new Promise((r) => setTimeout(r, this.options.retryDelayMs ?? 2000).unref());
      }
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.connecting;
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

@Global()
@Module({})
export class DatabaseModule {
  static forRoot(options: DatabaseModuleOptions): DynamicModule {
    return {
      module: DatabaseModule,
      providers: [
        { provide: DATABASE_OPTIONS, useValue: options },
        { provide: DataSource, useFactory: () => createDataSource(options) },
        DatabaseState,
        DatabaseConnector,
        {
          provide: ReadReplica,
          inject: [DataSource],
          useFactory: (primary: DataSource) => {
            const read = options.read;
            const replica = read
              ? createDataSource({
                  url: read.url,
                  poolSize: read.poolSize,
                  preparedStatements: options.preparedStatements,
                  applicationName: `${options.applicationName ?? 'email-core'}-reads`,
                  connectTimeoutMs: 1000,
                  queryTimeoutMs: read.queryTimeoutMs ?? 10_000,
                  readOnly: true,
                })
              : undefined;
            return new ReadReplica(primary, replica, read);
          },
        },
        {
          provide: OutboxRepository,
          inject: [DataSource],
          useFactory: (ds: DataSource) => new OutboxRepository(ds),
        },
        {
          provide: MailAccountTokensRepository,
          inject: [DataSource],
          useFactory: (ds: DataSource) => new MailAccountTokensRepository(ds),
        },
        UsersRepository,
        RefreshSessionsRepository,
      ],
      exports: [
        DataSource,
        DatabaseState,
        ReadReplica,
        OutboxRepository,
        MailAccountTokensRepository,
        UsersRepository,
        RefreshSessionsRepository,
      ],
    };
  }
}
