import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { ProducerConfig } from '@email-core/config';
import { MetricsRegistry, parseExposition, type Sample } from '@email-core/metrics';
import { PRODUCER_CONFIG } from '../../config.module';
import { LIVE_SERIES, liveFigures, OWN_SOURCE, type LiveFigures, type LiveSnapshot } from './live-window';

/** how often the sources are read */
export const LIVE_SAMPLE_MS = 5_000;
/** the span the panel's figures cover */
export const LIVE_WINDOW_MS = 60_000;
/** nobody asked for this long: the readings stop (and the window is dropped) until the panel asks again */
export const LIVE_IDLE_MS = 120_000;
/** a consumer's GET /metrics answers within this, or counts as unreachable this time */
const SCRAPE_TIMEOUT_MS = 2_000;

export interface ConsumerSourceStatus {
  url: string;
  /** it answered the last reading */
  reachable: boolean;
  /** why not, when it did not (status or error; never the token) */
  error: string | null;
}

export interface LiveReading extends LiveFigures {
  /** when the last reading was taken (ISO), null before the first */
  sampledAt: string | null;
  consumers: ConsumerSourceStatus[];
}

/** this producer's series the panel reads (only these: reading the whole registry would run its database gauges) */
const OWN_SERIES = [LIVE_SERIES.webhookDuration, LIVE_SERIES.httpDuration, LIVE_SERIES.providerRequests];

/**
 * The Ops page's live panel reads the same numbers Prometheus scrapes, without a Prometheus: while the panel is
 * open (asked in the last 2 minutes), every 5 s this producer reads its own registry (webhook answers, its own
 * provider requests) and each configured consumer's GET /metrics (`OPS_CONSUMER_METRICS_URLS`, with the
 * METRICS_TOKEN bearer: sync messages written, provider requests), keeps the last minute of readings in memory,
 * and turns them into rates (live-window.ts). Nothing is stored; a restarted producer starts a new window.
 */
@Injectable()
export class LiveSampler implements OnApplicationShutdown {
  private readonly logger = new Logger('LiveSampler');
  private readonly snapshots: LiveSnapshot[] = [];
  private readonly status = new Map<string, ConsumerSourceStatus>();
  private timer: NodeJS.Timeout | undefined;
  private askedAt = 0;
  private running: Promise<void> | undefined;
  private readonly urls: string[];
  private readonly token: string | undefined;

  constructor(
    private readonly registry: MetricsRegistry,
    @Inject(PRODUCER_CONFIG) config: ProducerConfig,
  ) {
    this.urls = config.liveMetrics.consumerUrls;
    this.token = config.metricsToken;
    for (const url of this.urls) this.status.set(url, { url, reachable: false, error: 'not read yet' });
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /**
   * The figures over the last minute of readings. The first call after a quiet spell starts the readings (it
   * waits for the first one): rates need a second reading, 5 s later.
   */
  async reading(now = Date.now()): Promise<LiveReading> {
    this.askedAt = now;
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(), LIVE_SAMPLE_MS);
      this.timer.unref();
      await this.sample();
    }
    const window = this.snapshots.filter((s) => s.at >= now - LIVE_WINDOW_MS - LIVE_SAMPLE_MS);
    const last = this.snapshots[this.snapshots.length - 1];
    return {
      ...liveFigures(window),
      sampledAt: last ? new Date(last.at).toISOString() : null,
      consumers: [...this.status.values()].map((s) => ({ ...s })),
    };
  }

  private tick(): void {
    if (Date.now() - this.askedAt > LIVE_IDLE_MS) {
      clearInterval(this.timer);
      this.timer = undefined;
      this.snapshots.length = 0;
      return;
    }
    void this.sample();
  }

  /** one reading of every source (a reading still running is waited for, never doubled) */
  sample(): Promise<void> {
    this.running ??= this.read().finally(() => (this.running = undefined));
    return this.running;
  }

  private async read(): Promise<void> {
    const at = Date.now();
    const sources = new Map<string, Sample[]>();
    try {
      sources.set(OWN_SOURCE, await this.ownSamples());
    } catch (err) {
      this.logger.warn(`reading this producer's metrics failed: ${(err as Error).message}`);
    }
    await Promise.all(
      this.urls.map(async (url) => {
        try {
          sources.set(url, await this.scrape(url));
          this.status.set(url, { url, reachable: true, error: null });
        } catch (err) {
          this.status.set(url, { url, reachable: false, error: (err as Error).message });
        }
      }),
    );
    this.snapshots.push({ at, sources });
    while (this.snapshots.length > 0 && this.snapshots[0].at < at - 2 * LIVE_WINDOW_MS)
      this.snapshots.shift();
  }

  /** this producer's own series, through the same exposition text and parser as a scraped consumer's */
  private async ownSamples(): Promise<Sample[]> {
    const out: Sample[] = [];
    for (const name of OWN_SERIES) {
      if (!this.registry.registry.getSingleMetric(name)) continue;
      out.push(...parseExposition(await this.registry.registry.getSingleMetricAsString(name)));
    }
    return out;
  }

  private async scrape(url: string): Promise<Sample[]> {
    const res = await fetch(`${url}/metrics`, {
      headers: this.token ? { authorization: `Bearer ${this.token}` } : {},
      signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`GET /metrics answered ${res.status}`);
    return parseExposition(text);
  }
}
