import { Inject, Injectable, Optional } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import type { Cluster } from 'ioredis';
import { probeRedisCluster, REDIS_CLUSTER } from '@email-core/cache';
import { DatabaseState, probePostgres } from '@email-core/database';
import { probeKafka } from '@email-core/kafka';
import { HEALTH_OPTIONS, type HealthOptions } from './health.options';

const reason = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Each check answers within the configured timeout whatever the dependency does. */
@Injectable()
export class DependencyIndicators {
  constructor(
    private readonly indicators: HealthIndicatorService,
    @Inject(HEALTH_OPTIONS) private readonly options: HealthOptions,
    @Inject(REDIS_CLUSTER) private readonly cluster: Cluster,
    @Optional() private readonly dbState?: DatabaseState,
  ) {}

  async postgres(): Promise<HealthIndicatorResult<'postgres'>> {
    const check = this.indicators.check('postgres');
    try {
      const { latencyMs } = await probePostgres(this.options.databaseUrl, this.options.timeoutMs);
      if (this.dbState && !this.dbState.migrated) {
        return check.down({ message: 'reachable, but migrations have not completed', latencyMs });
      }
      return check.up({ latencyMs });
    } catch (err) {
      return check.down({ message: reason(err) });
    }
  }

  async kafka(): Promise<HealthIndicatorResult<'kafka'>> {
    const check = this.indicators.check('kafka');
    try {
      const { brokers } = await probeKafka(this.options.kafkaBrokers, this.options.timeoutMs);
      return check.up({ brokers });
    } catch (err) {
      return check.down({ message: reason(err) });
    }
  }

  async redis(): Promise<HealthIndicatorResult<'redis'>> {
    const check = this.indicators.check('redis');
    try {
      const { masters, slotsOk } = await probeRedisCluster(this.cluster, this.options.timeoutMs);
      return check.up({ masters, slotsOk });
    } catch (err) {
      return check.down({ message: reason(err) });
    }
  }
}
