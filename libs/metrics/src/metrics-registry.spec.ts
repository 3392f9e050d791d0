import { MetricsRegistry } from './metrics-registry';

describe('MetricsRegistry', () => {
  it('exports the Node.js and process metrics under email_core_, without the non-conforming _total gauges', async () => {
    const text = await new MetricsRegistry().metrics();
    expect(text).toMatch(/^# TYPE email_core_process_cpu_user_seconds_total counter$/m);
    expect(text).toMatch(/^# TYPE email_core_nodejs_heap_size_used_bytes gauge$/m);
    expect(text).toMatch(/^# TYPE email_core_nodejs_active_handles gauge$/m);
    expect(text).not.toContain('email_core_nodejs_active_handles_total');
    expect(text).not.toContain('email_core_nodejs_active_requests_total');
    expect(text).not.toContain('email_core_nodejs_active_resources_total');
    // every family is the product's own
    const families = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]);
    expect(families.length).toBeGreaterThan(10);
    for (const f of families) expect(f.startsWith('email_core_')).toBe(true);
  });

  it("creates the app's metrics in its own registry, prefixed; two registries never share series", async () => {
    const a = new MetricsRegistry({ defaultMetrics: false });
    const b = new MetricsRegistry({ defaultMetrics: false });
    const counter = a.counter({ name: 'things_total', help: 'Things.', labelNames: ['kind'] as const });
    // the same name in another registry is another metric (prom-client's global registry would refuse it)
    b.counter({ name: 'things_total', help: 'Things.', labelNames: ['kind'] as const });
    counter.inc({ kind: 'x' }, 2);
    a.gauge({ name: 'level', help: 'Level.' }).set(3);
    a.histogram({ name: 'wait_seconds', help: 'Wait.', buckets: [1] }).observe(0.5);
    const text = await a.metrics();
    expect(text).toContain('email_core_things_total{kind="x"} 2');
    expect(text).toContain('email_core_level 3');
    expect(text).toContain('email_core_wait_seconds_bucket{le="1"} 1');
    expect(await b.metrics()).not.toContain('kind="x"');
    expect(a.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
  });
});
