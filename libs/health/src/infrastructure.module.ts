import { Module, type DynamicModule } from '@nestjs/common';
import { CacheModule } from '@email-core/cache';
import type { InfraConfig } from '@email-core/config';
import { DatabaseModule } from '@email-core/database';
import { MetricsModule } from '@email-core/metrics';
import { HealthModule } from './health.module';

/**
 * Postgres, the Redis Cluster, the health check and `GET /metrics` (behind METRICS_TOKEN when set), wired the same
 * way in every stack-connected process.
 */
@Module({})
export class InfrastructureModule {
  /**
   * @param readReplica the process has a query side: it reads DATABASE_READ_URL when set (the producer); the
   *   consumer writes, and reads what it writes, on the primary only
   */
  static forRoot(config: InfraConfig, appName: string, { readReplica = false } = {}): DynamicModule {
    const { readUrl } = config.database;
    return {
      module: InfrastructureModule,
      imports: [
        DatabaseModule.forRoot({
          url: config.database.url,
          poolSize: config.database.poolSize,
          migrationsRun: config.database.migrationsRun,
          preparedStatements: config.database.preparedStatements,
          applicationName: `email-core-${appName}`,
          read:
            readReplica && readUrl
              ? {
                  url: readUrl,
                  poolSize: config.database.readPoolSize,
                  maxLagMs: config.database.replicaMaxLagMs,
                }
              : undefined,
        }),
        CacheModule.forRoot({
          nodes: config.redis.nodes,
          keyPrefix: config.redis.keyPrefix,
          password: config.redis.password,
        }),
        HealthModule.forRoot({
          kafkaBrokers: config.kafka.brokers,
          timeoutMs: config.healthCheckTimeoutMs,
        }),
        MetricsModule.forRoot({ token: config.metricsToken }),
      ],
    };
  }
}
