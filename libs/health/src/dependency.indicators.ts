import { Inject, Injectable, Optional } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import type { Cluster } from 'ioredis';
import { DataSource } from 'typeorm';
import { probeRedisCluster, REDIS_CLUSTER } from '@email-core/cache';
import { DatabaseState, ReadReplica } from '@email-core/database';
import { withTimeout } from '@email-core/kafka';
import { HEALTH_OPTIONS, type HealthOptions } from './health.options';
import { KafkaReadiness } from './kafka-readiness';

const reason = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Each check answers within the configured timeout whatever the dependency does, and goes through the app's own
 * long-lived clients: Postgres through the app's TypeORM pool (`SELECT 1` on a pooled connection), Kafka through
 * one kept admin connection (KafkaReadiness), Redis through the app's cluster client. No check opens a
 * connection of its own per call (issue 16: fresh Postgres and Kafka connections per `/health` made 227 of 300
 * concurrent probes report a healthy stack down).
 */
@Injectable()
export class DependencyIndicators {
  /** the Postgres probe still running, if one outlived its timeout: the next probe waits for it, never piles up */
  private postgresInflight: Promise<unknown> | undefined;

  constructor(
    private readonly indicators: HealthIndicatorService,
    @Inject(HEALTH_OPTIONS) private readonly options: HealthOptions,
    @Inject(REDIS_CLUSTER) private readonly cluster: Cluster,
    private readonly kafkaReadiness: KafkaReadiness,
    @Optional() private readonly dataSource?: DataSource,
    @Optional() private readonly dbState?: DatabaseState,
    @Optional() private readonly readReplica?: ReadReplica,
  ) {}

  /**
   * The read replica never makes the process unready: reads go to the primary while it is down or behind. It
   * reports `up` with `state`: `serving`, `degraded` (configured but serving no reads, with the reason) or `off`
   * (no DATABASE_READ_URL), and its lag as last probed.
   */
  replica(): HealthIndicatorResult<'replica'> {
    const check = this.indicators.check('replica');
    const s = this.readReplica?.status();
    if (!s?.configured) return check.up({ state: 'off' });
    return check.up({
      state: s.serving ? 'serving' : 'degraded',
      ...(s.reason ? { reason: s.reason } : {}),
      lagMs: s.lagMs,
      lagBytes: s.lagBytes,
      checkedAt: s.checkedAt,
      reads: s.reads,
    });
  }

  async postgres(): Promise<HealthIndicatorResult<'postgres'>> {
    const check = this.indicators.check('postgres');
    const { timeoutMs } = this.options;
    if (!this.dataSource?.isInitialized) {
      const last = this.dbState?.lastError;
      return check.down({ message: last ? `not connected: ${last}` : 'not connected yet' });
    }
    const started = Date.now();
    try {
      this.postgresInflight ??= this.dataSource
        .query('SELECT 1')
        .finally(() => (this.postgresInflight = undefined));
      await withTimeout(this.postgresInflight, timeoutMs, `Postgres did not answer within ${timeoutMs} ms`);
      const latencyMs = Date.now() - started;
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
      const { brokers } = await this.kafkaReadiness.probe();
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
