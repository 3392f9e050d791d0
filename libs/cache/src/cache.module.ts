import { Global, Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { Cluster } from 'ioredis';
import { createRedisCluster, type RedisClusterOptions } from './redis-cluster';

export const REDIS_CLUSTER = Symbol('REDIS_CLUSTER');

class RedisClusterCloser implements OnApplicationShutdown {
  constructor(@Inject(REDIS_CLUSTER) private readonly cluster: Cluster) {}

  async onApplicationShutdown(): Promise<void> {
    await this.cluster.quit().catch(() => this.cluster.disconnect());
  }
}

@Global()
@Module({})
export class CacheModule {
  static forRoot(opts: RedisClusterOptions): DynamicModule {
    return {
      module: CacheModule,
      providers: [
        {
          provide: REDIS_CLUSTER,
          useFactory: () => {
            const cluster = createRedisCluster(opts);
            // Connection errors surface through the health check; without a listener ioredis would log each retry.
            cluster.on('error', () => undefined);
            return cluster;
          },
        },
        RedisClusterCloser,
      ],
      exports: [REDIS_CLUSTER],
    };
  }
}
