import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  linkOutlook,
  signUp,
  startProduct,
  waitFor,
  waitForAccountStatus,
  type RunningProduct,
  waitForActiveSubscription,
} from '@email-core/testing';

const TOKEN = randomBytes(24).toString('hex');
const DASHBOARD = resolve(__dirname, '../../docker/observability/grafana/dashboards/email-core.json');
const MESSAGES = 120;
const BURST = 30;

/** the series this test asks Prometheus for (the names libs/metrics' callers register) */
const SERIES = {
  syncWritten: 'email_core_sync_messages_written_total',
  kafkaLag: 'email_core_kafka_consumer_lag',
  webhookLatency: 'email_core_webhook_request_duration_seconds',
} as const;

/** Debian's prometheus server, or a failure that says how to get it */
function prometheusBinary(): string {
  const r = spawnSync('prometheus', ['--version'], { encoding: 'utf8', timeout: 30_000 });
  if (r.error || r.status !== 0) {
    throw new Error(
      `the prometheus server is not runnable (${r.error?.message ?? `exit ${r.status}: ${r.stderr}`}): ` +
        "install Debian's prometheus package (apt-get install prometheus; .ci/run does)",
    );
  }
  return 'prometheus';
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** a free port in 4400-4499 (the range this test's Prometheus may use) */
async function freePrometheusPort(): Promise<number> {
  const start = Math.floor(Math.random() * 100);
  for (let i = 0; i < 100; i++) {
    const port = 4400 + ((start + i) % 100);
    if (await canListen(port)) return port;
  }
  throw new Error('no free port between 4400 and 4499 for Prometheus');
}

/** Prometheus's configuration: both apps' /metrics every second, with the METRICS_TOKEN bearer (from a file) */
function prometheusConfig(dir: string, producer: string, consumer: string): string {
  const tokenFile = join(dir, 'metrics-token');
  writeFileSync(tokenFile, TOKEN, { mode: 0o600 });
  const job = (name: string, target: string) =>
    [
      `  - job_name: ${name}`,
      '    metrics_path: /metrics',
      '    authorization:',
      '      type: Bearer',
      `      credentials_file: ${tokenFile}`,
      '    static_configs:',
      `      - targets: ['${new URL(target).host}']`,
    ].join('\n');
  return [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 1s',
    '  evaluation_interval: 1s',
    'scrape_configs:',
    job('email-core-producer', producer),
    job('email-core-consumer', consumer),
    '',
  ].join('\n');
}

interface PromVector {
  metric: Record<string, string>;
  value: [number, string];
}

/**
 * Issue 22, a real Prometheus: Debian's `prometheus` server (no Docker) scrapes both apps of a running product
 * every second with the METRICS_TOKEN bearer; after a sync (an emulator mailbox linked) and a webhook burst, its
 * HTTP API (`/api/v1/query`) answers non-empty results for sync throughput, webhook latency and Kafka lag.
 */
describe('a real Prometheus scrapes both apps', () => {
  let product: RunningProduct;
  let prometheus: ChildProcess | undefined;
  let promUrl = '';
  let dir = '';
  let promLog = '';
  const mailbox = `prom-${randomBytes(3).toString('hex')}@contoso.example`;

  async function query(expr: string): Promise<PromVector[]> {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`, {
      signal: AbortSignal.timeout(10_000),
    });
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data?: { resultType: string; result: PromVector[] };
    };
    if (body.status !== 'success') throw new Error(`${expr}: ${body.error ?? res.status}`);
    return body.data?.result ?? [];
  }

  /** waits until `expr` has a sample, every value passing `ok`; returns the vector */
  async function eventually(expr: string, ok: (v: number) => boolean = () => true): Promise<PromVector[]> {
    let last: PromVector[] = [];
    try {
      return await waitFor(
        async () => {
          last = await query(expr);
          return last.length > 0 && last.every((s) => ok(Number(s.value[1]))) ? last : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 1000, what: `Prometheus: ${expr}` },
      );
    } catch (err) {
      // what Prometheus answered last, to tell a missing series from a wrong value
      throw new Error(`${(err as Error).message}; last answer: ${JSON.stringify(last)}`);
    }
  }

  beforeAll(async () => {
    const binary = prometheusBinary();
    product = await startProduct({
      // its own topics and groups: the lag it waits to drain is this product's alone (the run's shared topics hold
      // what earlier tests' products left, which CI saw keep the total at 41)
      isolated: true,
      appEnv: { METRICS_TOKEN: TOKEN, LOG_LEVEL: 'warn' },
    });
    await product.emulator.admin('POST', '/_emulator/mailboxes', {
      address: mailbox,
      displayName: 'Prometheus Test',
      password: 'mailbox-password',
      seed: { messages: MESSAGES, folders: 2, seed: 2222 },
    });

    dir = mkdtempSync(join(tmpdir(), 'email-core-prometheus-'));
    const config = join(dir, 'prometheus.yml');
    writeFileSync(
      config,
      prometheusConfig(dir, product.apis[0], `http://127.0.0.1:${product.env.CONSUMER_PORT}`),
    );
    const check = spawnSync('promtool', ['check', 'config', config], { encoding: 'utf8' });
    expect({ status: check.status, output: check.stderr }).toEqual({ status: 0, output: '' });

    const port = await freePrometheusPort();
    promUrl = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      binary,
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--storage.tsdb.retention.time=1h',
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prometheus.stdout?.on('data', (d: Buffer) => (promLog += d.toString()));
    prometheus.stderr?.on('data', (d: Buffer) => (promLog += d.toString()));
    await waitFor(
      async () => {
        if (prometheus?.exitCode !== null) throw new Error(`prometheus exited: ${promLog}`);
        const res = await fetch(`${promUrl}/-/ready`, { signal: AbortSignal.timeout(2000) });
        return res.ok ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: `Prometheus ready on ${promUrl}` },
    );
  }, 180_000);

  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus?.once('exit', resolve));
      prometheus.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 10_000)))]);
      clearTimeout(timer);
      if (prometheus.exitCode === null) prometheus.kill('SIGKILL');
    }
    await product?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('scrapes the producer and the consumer with the bearer token: both targets up', async () => {
    const up = await waitFor(
      async () => {
        const r = await query('up{job=~"email-core-.*"} == 1');
        return r.length === 2 ? r : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'both targets up' },
    );
    expect(up.map((s) => s.metric.job).sort()).toEqual(['email-core-consumer', 'email-core-producer']);
    // the scrape itself carried the token: a scrape without it would be a 401 and `up` 0
    const targets = (await (await fetch(`${promUrl}/api/v1/targets`)).json()) as {
      data: { activeTargets: Array<{ health: string; lastError: string; scrapePool: string }> };
    };
    expect(
      targets.data.activeTargets.map((t) => ({ pool: t.scrapePool, health: t.health, error: t.lastError })),
    ).toEqual(
      expect.arrayContaining([
        { pool: 'email-core-producer', health: 'up', error: '' },
        { pool: 'email-core-consumer', health: 'up', error: '' },
      ]),
    );
  });

  it('after a sync and a webhook burst: sync throughput, webhook latency and Kafka lag have series', async () => {
    const { token } = await signUp(product.api);
    await linkOutlook(product, token, mailbox, 'mailbox-password');
    await waitForAccountStatus(product.api, token, 'synced');

    // the first sync is scraped: the written counter exists in Prometheus with the whole mailbox
    const written = await eventually(`sum(${SERIES.syncWritten}{provider="outlook"})`, (v) => v >= MESSAGES);
    expect(Number(written[0].value[1])).toBe(MESSAGES);

    // a webhook burst: new messages arrive, Graph notifies the producer, the consumer's rounds write them
    await waitForActiveSubscription(product);
    // spread over ~7 s: many webhook POSTs (the emulator batches what changes together), seen across scrapes
    await product.emulator.admin('POST', `/_emulator/mailboxes/${mailbox}/activity`, {
      creates: BURST,
      perSecond: 4,
      seed: 2300,
      wait: true,
    });

    // sync throughput: the counter grew inside Prometheus's own window (rate > 0 from scraped samples)
    const rate = await eventually(`sum(rate(${SERIES.syncWritten}{provider="outlook"}[1m]))`, (v) => v > 0);
    expect(Number(rate[0].value[1])).toBeGreaterThan(0);
    const increase = await eventually(
      `sum(increase(${SERIES.syncWritten}{provider="outlook"}[5m]))`,
      (v) => v >= BURST,
    );
    expect(Number(increase[0].value[1])).toBeGreaterThanOrEqual(BURST);

    // webhook latency: the webhook's answers were counted, and their p95 over the burst is a finite number of seconds
    const answers = await eventually(`sum(increase(${SERIES.webhookLatency}_count[5m]))`, (v) => v >= 1);
    expect(Number(answers[0].value[1])).toBeGreaterThanOrEqual(1);
    const p95 = await eventually(
      `histogram_quantile(0.95, sum by (le) (rate(${SERIES.webhookLatency}_bucket[5m])))`,
      (v) => Number.isFinite(v) && v > 0,
    );
    expect(Number(p95[0].value[1])).toBeLessThan(5);
    // the same through the HTTP histogram of the webhook's route (fast lane), answered 202
    const http = await eventually(
      'histogram_quantile(0.95, sum by (le) (rate(email_core_http_request_duration_seconds_bucket' +
        '{route="/api/v1/graph/notifications",status_code="202"}[5m])))',
      (v) => Number.isFinite(v) && v > 0,
    );
    expect(Number(http[0].value[1])).toBeLessThan(5);

    // Kafka lag: per consumer group and partition, never a negative number
    const lag = await eventually(SERIES.kafkaLag, (v) => v >= 0);
    expect(lag.length).toBeGreaterThan(0);
    for (const s of lag) {
      expect(Object.keys(s.metric)).toEqual(expect.arrayContaining(['group', 'partition']));
    }
    // the consumer drains what the burst produced: the total lag comes back to 0
    await eventually(`sum(${SERIES.kafkaLag})`, (v) => v === 0);
  }, 300_000);

  it('every panel of the Grafana dashboard (docker/observability) has data in this Prometheus', async () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
      panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
    };
    const empty: string[] = [];
    for (const panel of dashboard.panels) {
      for (const target of panel.targets) {
        // Grafana's rate window, as Grafana substitutes it for a 1 s scrape interval
        const expr = target.expr.replaceAll('$__rate_interval', '1m');
        if ((await query(expr)).length === 0) empty.push(`${panel.title}: ${expr}`);
      }
    }
    expect(empty).toEqual([]);
  });
});
