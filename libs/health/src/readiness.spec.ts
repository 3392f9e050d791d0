import { ServiceUnavailableException } from '@nestjs/common';
import type { HealthCheckResult, HealthCheckService } from '@nestjs/terminus';
import type { DependencyIndicators } from './dependency.indicators';
import { Readiness } from './readiness';

describe('Readiness', () => {
  let now: number;
  let probes: number;
  let pending: Array<{ resolve: (r: HealthCheckResult) => void; reject: (e: unknown) => void }>;
  let readiness: Readiness;

  beforeEach(() => {
    now = 1_000_000;
    probes = 0;
    pending = [];
    const health = {
      check: () => {
        probes += 1;
        return new Promise<HealthCheckResult>((resolve, reject) => pending.push({ resolve, reject }));
      },
    } as unknown as HealthCheckService;
    readiness = new Readiness(health, {} as DependencyIndicators);
    readiness.now = () => now;
  });

  const ok = { status: 'ok', info: {}, error: {}, details: {} } as HealthCheckResult;
  const settle = async () => {
    await Promise.resolve();
    await Promise.resolve();
  };

  it('runs one probe for any number of concurrent callers, and serves its result for a second', async () => {
    const calls = Array.from({ length: 300 }, () => readiness.check());
    expect(probes).toBe(1);
    pending[0].resolve(ok);
    expect(await Promise.all(calls)).toEqual(Array.from({ length: 300 }, () => ok));
    await settle();
    now += 999;
    await readiness.check();
    expect(probes).toBe(1);
    now += 1;
    void readiness.check();
    expect(probes).toBe(2);
  });

  it('shares and caches a failure the same way (503 for every caller), then probes again', async () => {
    const a = readiness.check();
    const b = readiness.check();
    const down = new ServiceUnavailableException({ status: 'error' });
    pending[0].reject(down);
    await expect(a).rejects.toBe(down);
    await expect(b).rejects.toBe(down);
    await settle();
    await expect(readiness.check()).rejects.toBe(down);
    expect(probes).toBe(1);
    now += 1000;
    const c = readiness.check();
    expect(probes).toBe(2);
    pending[1].resolve(ok);
    expect(await c).toBe(ok);
  });
});
