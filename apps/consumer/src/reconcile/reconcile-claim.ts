import { Inject, Injectable } from '@nestjs/common';
import type { Cluster } from 'ioredis';
import { REDIS_CLUSTER, RedisLock } from '@email-core/cache';

/** Who may start a reconciliation now. */
export interface ReconcileClaimPort {
  /** true when this worker got the turn; the turn is then nobody else's for `ttlMs` */
  claim(key: string, ttlMs: number): Promise<boolean>;
}

/**
 * The deployment-wide turn of the reconciliation, in the Redis Cluster: `SET key NX PX interval`, never released,
 * so once a worker took it no other worker (nor itself) starts another round until the interval has passed. If a
 * failover loses the key, one more round may run early: harmless, a round only runs deltas.
 */
@Injectable()
export class RedisReconcileClaim implements ReconcileClaimPort {
  private readonly lock: RedisLock;

  constructor(@Inject(REDIS_CLUSTER) redis: Cluster) {
    this.lock = new RedisLock(redis);
  }

  async claim(key: string, ttlMs: number): Promise<boolean> {
    return (await this.lock.tryAcquire(key, ttlMs)) !== null;
  }
}

export const RECONCILE_CLAIM = Symbol('RECONCILE_CLAIM');
