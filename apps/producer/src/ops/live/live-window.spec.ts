import { MetricsRegistry, parseExposition, type Sample } from '@email-core/metrics';
import {
  histogramQuantile,
  increaseOf,
  liveFigures,
  OWN_SOURCE,
  totalIncrease,
  WEBHOOK_ROUTE,
  type LiveSnapshot,
} from './live-window';

const s = (name: string, labels: Record<string, string>, value: number): Sample => ({ name, labels, value });
const WRITTEN = 'email_core_sync_messages_written_total';
const PROVIDER = 'email_core_provider_requests_total';
const snap = (at: number, sources: Record<string, Sample[]>): LiveSnapshot => ({
  at,
  sources: new Map(Object.entries(sources)),
});

describe('increaseOf / totalIncrease (a counter between two readings)', () => {
  it('grows by the difference; a new series by its value; a series that went down was reset', () => {
    const older = [s(WRITTEN, { provider: 'outlook' }, 100), s(WRITTEN, { provider: 'imap' }, 50)];
    const newer = [
      s(WRITTEN, { provider: 'outlook' }, 130),
      s(WRITTEN, { provider: 'imap' }, 7), // the consumer restarted: 7 written since
      s(WRITTEN, { provider: 'other' }, 4), // appeared since
    ];
    const byProvider = [...increaseOf(older, newer, WRITTEN).values()].map((x) => [
      x.sample.labels.provider,
      x.increase,
    ]);
    expect(byProvider).toEqual([
      ['outlook', 30],
      ['imap', 7],
      ['other', 4],
    ]);
    expect(totalIncrease(older, newer, WRITTEN)).toBe(41);
    expect(totalIncrease(older, newer, WRITTEN, { provider: 'outlook' })).toBe(30);
    expect(totalIncrease(older, newer, 'email_core_nothing_total')).toBe(0);
  });
});

describe('histogramQuantile (as Prometheus computes it)', () => {
  const buckets = (entries: Array<[number, number]>) => new Map(entries);

  it('interpolates inside the bucket the rank falls in', () => {
    // 100 observations: 50 up to 0.1 s, 40 more up to 0.5 s, 10 more up to 1 s
    const b = buckets([
      [0.1, 50],
      [0.5, 90],
      [1, 100],
      [Infinity, 100],
    ]);
    expect(histogramQuantile(0.5, b)).toBeCloseTo(0.1);
    expect(histogramQuantile(0.95, b)).toBeCloseTo(0.75);
    expect(histogramQuantile(0.25, b)).toBeCloseTo(0.05); // from 0 inside the first bucket
  });

  it('the highest finite bound when the rank is in +Inf; null without observations or without +Inf', () => {
    expect(
      histogramQuantile(
        0.99,
        buckets([
          [1, 1],
          [Infinity, 10],
        ]),
      ),
    ).toBe(1);
    expect(
      histogramQuantile(
        0.95,
        buckets([
          [1, 0],
          [Infinity, 0],
        ]),
      ),
    ).toBeNull();
    expect(histogramQuantile(0.95, buckets([[1, 3]]))).toBeNull();
  });

  it('matches the buckets prom-client writes for the observations (p95 of 20 answers at 40 ms, 1 at 2 s)', async () => {
    const registry = new MetricsRegistry({ defaultMetrics: false });
    const h = registry.histogram({ name: 'x_seconds', help: 'X.', buckets: [0.025, 0.05, 0.1, 2.5] });
    for (let i = 0; i < 20; i++) h.observe(0.04);
    h.observe(2);
    const samples = parseExposition(await registry.metrics());
    const b = new Map(
      samples
        .filter((x) => x.name === 'email_core_x_seconds_bucket')
        .map((x) => [x.labels.le === '+Inf' ? Infinity : Number(x.labels.le), x.value] as const),
    );
    // rank 19.95 of 21 falls in (0.025, 0.05]: 20 there
    expect(histogramQuantile(0.95, b)).toBeCloseTo(0.025 + 0.025 * (19.95 / 20));
  });
});

describe('liveFigures (the panel over a minute of readings)', () => {
  const consumer = 'http://127.0.0.1:3001';
  const bucket = (le: string, v: number) =>
    s('email_core_webhook_request_duration_seconds_bucket', { endpoint: 'notifications', le }, v);

  it('sync rate from the consumers, webhook p95 and 429s from the window’s first and last readings', () => {
    const figures = liveFigures([
      snap(0, {
        [OWN_SOURCE]: [
          bucket('0.01', 0),
          bucket('0.1', 0),
          bucket('+Inf', 0),
          s('email_core_webhook_request_duration_seconds_count', { endpoint: 'notifications' }, 0),
          s(PROVIDER, { provider: 'outlook', status: '429' }, 1),
        ],
        [consumer]: [
          s(WRITTEN, { provider: 'outlook' }, 0),
          s(PROVIDER, { provider: 'outlook', status: '429' }, 2),
        ],
      }),
      snap(5_000, { [OWN_SOURCE]: [], [consumer]: [s(WRITTEN, { provider: 'outlook' }, 10)] }),
      snap(20_000, {
        [OWN_SOURCE]: [
          bucket('0.01', 8),
          bucket('0.1', 10),
          bucket('+Inf', 10),
          s('email_core_webhook_request_duration_seconds_count', { endpoint: 'notifications' }, 10),
          s(PROVIDER, { provider: 'outlook', status: '429' }, 1),
        ],
        [consumer]: [
          s(WRITTEN, { provider: 'outlook' }, 200),
          s(PROVIDER, { provider: 'outlook', status: '429' }, 5),
          s(PROVIDER, { provider: 'outlook', status: '200' }, 90),
        ],
      }),
    ]);
    expect(figures).toEqual({
      windowSeconds: 20,
      syncMessages: 200,
      syncMessagesPerSecond: 10,
      webhookRequests: 10,
      webhookP95Seconds: expect.closeTo(0.01 + 0.09 * ((9.5 - 8) / 2), 6) as unknown,
      provider429s: 3,
    });
  });

  it("falls back to the webhook route's HTTP histogram; no consumer read twice: no sync figures", () => {
    const http = (le: string, v: number) =>
      s(
        'email_core_http_request_duration_seconds_bucket',
        { method: 'POST', route: WEBHOOK_ROUTE, status_code: '202', le },
        v,
      );
    const other = (v: number) =>
      s(
        'email_core_http_request_duration_seconds_bucket',
        { method: 'GET', route: '/api/v1/me', status_code: '200', le: '+Inf' },
        v,
      );
    const count = (v: number) =>
      s(
        'email_core_http_request_duration_seconds_count',
        { method: 'POST', route: WEBHOOK_ROUTE, status_code: '202' },
        v,
      );
    const figures = liveFigures([
      snap(0, { [OWN_SOURCE]: [http('0.05', 0), http('+Inf', 0), count(0), other(0)] }),
      snap(10_000, {
        [OWN_SOURCE]: [http('0.05', 4), http('+Inf', 4), count(4), other(100)],
        [consumer]: [s(WRITTEN, { provider: 'outlook' }, 500)],
      }),
    ]);
    expect(figures).toMatchObject({
      windowSeconds: 10,
      syncMessages: null,
      syncMessagesPerSecond: null,
      webhookRequests: 4,
      provider429s: 0,
    });
    expect(figures.webhookP95Seconds).toBeCloseTo(0.0475);
    expect(liveFigures([])).toEqual({
      windowSeconds: 0,
      syncMessages: null,
      syncMessagesPerSecond: null,
      webhookRequests: 0,
      webhookP95Seconds: null,
      provider429s: 0,
    });
  });
});
