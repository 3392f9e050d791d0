import { Controller, Get } from '@nestjs/common';
import { HealthCheck, type HealthCheckResult } from '@nestjs/terminus';
import { Readiness } from './readiness';

@Controller('health')
export class HealthController {
  constructor(private readonly readiness: Readiness) {}

  /**
   * Readiness: 200 when Postgres, Kafka and the Redis Cluster all answer, 503 naming the failing ones otherwise.
   * One probe at a time, its result served for a second (Readiness).
   */
  @Get()
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    return this.readiness.check();
  }

  /** Liveness: the process is up and serving HTTP; no I/O, so it answers whatever the dependencies do. */
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }
}
