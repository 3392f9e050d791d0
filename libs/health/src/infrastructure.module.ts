import { Module, type DynamicModule } from '@nestjs/common';
import { CacheModule } from '@email-core/cache';
import type { InfraConfig } from '@email-core/config';
import { DatabaseModule } from '@email-core/database';
import { HealthModule } from './health.module';

/** Postgres, the Redis Cluster and the health check, wired the same way in every stack-connected process. */
@Module({})
export class InfrastructureModule {
  static forRoot(config: InfraConfig, appName: string): DynamicModule {
    return {
      module: InfrastructureModule,
      imports: [
        DatabaseModule.forRoot({
          url: config.database.url,
          poolSize: config.database.poolSize,
          migrationsRun: config.database.migrationsRun,
          applicationName: `email-core-${appName}`,
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
      ],
    };
  }
}
