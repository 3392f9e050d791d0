import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
  type CounterConfiguration,
  type GaugeConfiguration,
  type HistogramConfiguration,
} from 'prom-client';

/** Every metric of the product is named `email_core_…` (Prometheus conventions: base units, `_total` counters). */
export const METRIC_PREFIX = 'email_core_';

/**
 * prom-client's default metrics that break the naming conventions (`promtool check metrics`: a gauge must not end
 * in `_total`). Each is the sum of a labelled gauge it also exports (`…_active_handles{type}` and so on), so
 * nothing is lost by dropping them.
 */
const NON_CONFORMING_DEFAULTS = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

type Named<T> = Omit<T, 'registers' | 'name'> & { name: string };

/**
 * The process's one Prometheus registry (prom-client's global registry is never used, so two apps in one test
 * process, or two test modules, never share series): the Node.js and process metrics under `email_core_`, and
 * the app's own metrics, created through it. `name` is given without the prefix.
 */
export class MetricsRegistry {
  readonly registry = new Registry();

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX });
      for (const name of NON_CONFORMING_DEFAULTS) this.registry.removeSingleMetric(METRIC_PREFIX + name);
    }
  }

  counter<L extends string>(config: Named<CounterConfiguration<L>>): Counter<L> {
    return new Counter<L>({ ...config, name: METRIC_PREFIX + config.name, registers: [this.registry] });
  }

  gauge<L extends string>(config: Named<GaugeConfiguration<L>>): Gauge<L> {
    return new Gauge<L>({ ...config, name: METRIC_PREFIX + config.name, registers: [this.registry] });
  }

  histogram<L extends string>(config: Named<HistogramConfiguration<L>>): Histogram<L> {
    return new Histogram<L>({ ...config, name: METRIC_PREFIX + config.name, registers: [this.registry] });
  }

  /** `text/plain; version=0.0.4; charset=utf-8`: the exposition format Prometheus scrapes */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** every metric in the exposition text format */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
