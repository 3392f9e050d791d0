import { parseExposition, sumOf } from './exposition';
import { MetricsRegistry } from './metrics-registry';
import { ProviderMetrics, statusLabel } from './provider-metrics';

describe('ProviderMetrics', () => {
  it('labels an answer by its code for the usual ones, else by class: a bounded set', () => {
    expect(statusLabel(200)).toBe('200');
    expect(statusLabel(429)).toBe('429');
    expect(statusLabel(503)).toBe('503');
    expect(statusLabel(418)).toBe('4xx');
    expect(statusLabel(299)).toBe('2xx');
    expect(statusLabel(999)).toBe('other');
  });

  it('counts requests by provider and status, throttling waits and in-flight counts, throttling series at 0 first', async () => {
    const registry = new MetricsRegistry({ defaultMetrics: false });
    const outlook = new ProviderMetrics(registry).forProvider('outlook');
    let samples = parseExposition(await registry.metrics());
    for (const status of ['429', '503', '504', 'error']) {
      expect(samples).toContainEqual({
        name: 'email_core_provider_requests_total',
        labels: { provider: 'outlook', status },
        value: 0,
      });
    }
    outlook.answered(200);
    outlook.answered(429);
    outlook.answered(429);
    outlook.failed();
    outlook.retryWait(2);
    outlook.retryWait(0.5);
    outlook.started(1);
    outlook.started(4);
    samples = parseExposition(await registry.metrics());
    const requests = 'email_core_provider_requests_total';
    expect(sumOf(samples, requests, { status: '429' })).toBe(2);
    expect(sumOf(samples, requests, { status: '200' })).toBe(1);
    expect(sumOf(samples, requests, { status: 'error' })).toBe(1);
    expect(sumOf(samples, 'email_core_provider_retry_wait_seconds_count')).toBe(2);
    expect(sumOf(samples, 'email_core_provider_retry_wait_seconds_sum')).toBe(2.5);
    const inFlight = 'email_core_provider_mailbox_requests_in_flight_bucket';
    expect(sumOf(samples, inFlight, { le: '1' })).toBe(1);
    expect(sumOf(samples, inFlight, { le: '4' })).toBe(2);
    expect(
      samples.every((s) => Object.keys(s.labels).every((k) => ['provider', 'status', 'le'].includes(k))),
    ).toBe(true);
  });
});
