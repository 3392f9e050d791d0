import { parseExposition, sumOf } from './exposition';
import { MetricsRegistry } from './metrics-registry';

describe('parseExposition / sumOf', () => {
  it("reads prom-client's output back: names, labels (escapes included), values", async () => {
    const registry = new MetricsRegistry({ defaultMetrics: false });
    const c = registry.counter({ name: 'x_total', help: 'X.', labelNames: ['a', 'b'] as const });
    c.inc({ a: '1', b: 'say "hi"\\' }, 2);
    c.inc({ a: '2', b: 'z' }, 3);
    registry.histogram({ name: 'h_seconds', help: 'H.', buckets: [1] }).observe(0.5);
    const samples = parseExposition(await registry.metrics());
    expect(samples).toContainEqual({
      name: 'email_core_x_total',
      labels: { a: '1', b: 'say "hi"\\' },
      value: 2,
    });
    expect(sumOf(samples, 'email_core_x_total')).toBe(5);
    expect(sumOf(samples, 'email_core_x_total', { a: '2' })).toBe(3);
    expect(sumOf(samples, 'email_core_x_total', { a: '3' })).toBe(0);
    expect(sumOf(samples, 'email_core_h_seconds_bucket', { le: '+Inf' })).toBe(1);
    expect(sumOf(samples, 'email_core_h_seconds_count')).toBe(1);
  });

  it('refuses what is not exposition text', () => {
    expect(() => parseExposition('{"not":"prometheus"}')).toThrow(/not an exposition line/);
  });
});
