import { Injectable } from '@nestjs/common';
import { HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { DependencyIndicators } from './dependency.indicators';

/** how long one readiness result is served to every caller */
export const READINESS_CACHE_MS = 1000;

/**
 * `/health`'s readiness result, shared: concurrent callers wait for the one probe in flight, and its result
 * (200 or 503 alike) is served for a second after it settles. A load balancer polling from many nodes, or 300
 * probes at once, cost one round of Postgres, Kafka and Redis checks per second, through the app's own clients.
 */
@Injectable()
export class Readiness {
  private current: { result: Promise<HealthCheckResult>; settledAt: number | undefined } | undefined;
  /** the clock (tests replace it) */
  now: () => number = Date.now;

  constructor(
    private readonly health: HealthCheckService,
    private readonly deps: DependencyIndicators,
  ) {}

  check(): Promise<HealthCheckResult> {
    const c = this.current;
    if (c && (c.settledAt === undefined || this.now() - c.settledAt < READINESS_CACHE_MS)) return c.result;
    const entry: { result: Promise<HealthCheckResult>; settledAt: number | undefined } = {
      result: this.health.check([
        () => this.deps.postgres(),
        () => this.deps.kafka(),
        () => this.deps.redis(),
        () => this.deps.replica(),
      ]),
      settledAt: undefined,
    };
    const settle = () => {
      entry.settledAt = this.now();
    };
    entry.result.then(settle, settle);
    this.current = entry;
    return entry.result;
  }
}
