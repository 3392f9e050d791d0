export { createRedisCluster, type RedisClusterOptions } from './redis-cluster';
export { CacheKeys, accountTag } from './keys';
export { probeRedisCluster, type RedisProbeResult } from './redis-probe';
export { CacheModule, REDIS_CLUSTER } from './cache.module';
export { RedisLock, type HeldLock } from './redis-lock';
