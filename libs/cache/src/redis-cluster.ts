import { Cluster } from 'ioredis';

export interface RedisClusterOptions {
  nodes: Array<{ host: string; port: number }>;
  keyPrefix?: string;
  password?: string;
  connectTimeoutMs?: number;
}

/**
 * The one Redis client of the product: a Cluster, never a single node, so hash tags and
 * cross-slot rules are exercised everywhere (dev, tests and production alike).
 */
export function createRedisCluster(opts: RedisClusterOptions): Cluster {
  return new Cluster(opts.nodes, {
    keyPrefix: opts.keyPrefix,
    enableReadyCheck: true,
    scaleReads: 'master',
    slotsRefreshTimeout: 2000,
    clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
    redisOptions: {
      password: opts.password,
      connectTimeout: opts.connectTimeoutMs ?? 3000,
      maxRetriesPerRequest: 2,
    },
  });
}
