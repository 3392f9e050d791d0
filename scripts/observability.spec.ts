import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(__dirname, '..');
const read = (file: string): string => fs.readFileSync(path.join(root, file), 'utf8');
const DASHBOARD = 'docker/observability/grafana/dashboards/email-core.json';

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: Array<{ refId: string; expr: string; datasource?: { uid: string } }>;
}

/**
 * Grafana's own variables in a panel's PromQL, as Grafana would substitute them (for promtool, which does not know
 * them): the rate window and the step.
 */
function withGrafanaVariables(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$__interval', '15s')
    .replaceAll('$__range', '1h');
}

const PROMQL_WORDS = new Set([
  'sum',
  'rate',
  'increase',
  'histogram_quantile',
  'max',
  'min',
  'avg',
  'count',
  'by',
  'without',
  'irate',
  'clamp_min',
  'topk',
]);

/** the metric names a PromQL expression reads: its identifiers outside label lists, matchers and strings */
function metricNames(expr: string): string[] {
  const bare = withGrafanaVariables(expr)
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\b(by|without)\s*\([^)]*\)/g, '')
    .replace(/\[[^\]]*\]/g, '');
  return [...bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)].map((m) => m[0]).filter((w) => !PROMQL_WORDS.has(w));
}

/** `promtool <args>`, or a failure that says how to install it */
function promtool(args: string[]): { status: number | null; output: string } {
  const r = spawnSync('promtool', args, { encoding: 'utf8', timeout: 30_000 });
  if (r.error) {
    throw new Error(
      `promtool not runnable (${r.error.message}): install Debian's prometheus package (apt-get install prometheus)`,
    );
  }
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

/** every panel expression as a recording rule; `promtool check rules` parses each one's PromQL */
function checkExpressions(exprs: Array<{ record: string; expr: string }>): {
  status: number | null;
  output: string;
} {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dashboard-rules-'));
  try {
    const file = path.join(dir, 'rules.yml');
    const rules = exprs
      // JSON strings are YAML strings: the expressions go in as they are, quotes and braces included
      .map(
        (r) => `      - record: ${r.record}\n        expr: ${JSON.stringify(withGrafanaVariables(r.expr))}`,
      )
      .join('\n');
    fs.writeFileSync(file, `groups:\n  - name: email-core-dashboard\n    rules:\n${rules}\n`);
    return promtool(['check', 'rules', file]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('Grafana dashboard (docker/observability, issue 22)', () => {
  const dashboard = JSON.parse(read(DASHBOARD)) as { uid: string; title: string; panels: Panel[] };
  const datasourceUid = /^\s*uid:\s*(\S+)\s*$/m.exec(
    read('docker/observability/grafana/provisioning/datasources/prometheus.yml'),
  )?.[1];

  it('has the panels operators asked for, each on the provisioned Prometheus data source, with a query', () => {
    expect(dashboard.uid).toBe('email-core');
    expect(datasourceUid).toBe('email-core-prometheus');
    expect(dashboard.panels.map((p) => p.title)).toEqual(
      expect.arrayContaining([
        'Sync rate',
        'Webhook answer latency p95',
        'Kafka consumer lag',
        'Provider 429s',
        'HTTP p95 by route',
        'Outbox backlog',
        'Accounts by status',
        'Socket connections',
      ]),
    );
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
    for (const p of dashboard.panels) {
      expect({ title: p.title, uid: p.datasource?.uid }).toEqual({ title: p.title, uid: datasourceUid });
      expect(p.targets?.length ?? 0).toBeGreaterThan(0);
      for (const t of p.targets ?? []) {
        expect(t.expr.trim()).not.toBe('');
        expect(t.datasource?.uid ?? datasourceUid).toBe(datasourceUid);
        // only the product's metrics (a name from another exporter would be an empty panel)
        const names = metricNames(t.expr);
        expect({ panel: p.title, metrics: names.length > 0 }).toEqual({ panel: p.title, metrics: true });
        for (const name of names) expect(name).toMatch(/^email_core_[a-z0-9_]+$/);
      }
    }
    // a 24-column grid, no two panels on the same cells
    const cells = new Set<string>();
    for (const { x, y, w, h } of dashboard.panels.map((p) => p.gridPos)) {
      expect(x + w).toBeLessThanOrEqual(24);
      for (let i = x; i < x + w; i++) {
        for (let j = y; j < y + h; j++) {
          expect(cells.has(`${i},${j}`)).toBe(false);
          cells.add(`${i},${j}`);
        }
      }
    }
  });

  it("every panel's PromQL parses (promtool check rules), and a broken expression would be caught", () => {
    const exprs = dashboard.panels.flatMap((p) =>
      (p.targets ?? []).map((t) => ({
        record: `email_core_dashboard:panel${p.id}_${t.refId}`,
        expr: t.expr,
      })),
    );
    expect(exprs.length).toBeGreaterThanOrEqual(8);
    expect(checkExpressions(exprs)).toMatchObject({
      status: 0,
      output: expect.stringMatching(/SUCCESS: \d+ rules found/) as unknown,
    });
    const broken = checkExpressions([{ record: 'x:y', expr: 'sum by (le (rate(x[$__rate_interval]))' }]);
    expect(broken.status).not.toBe(0);
    expect(broken.output).toMatch(/parse error/);
  });
});

describe('docker-compose.observability.yml and its Prometheus configuration', () => {
  const compose = read('docker-compose.observability.yml');

  it('pins Prometheus and Grafana by version and mounts files that exist in the repo', () => {
    const images = [...compose.matchAll(/^\s+image:\s*(\S+)\s*$/gm)].map((m) => m[1]);
    expect(images).toEqual([
      expect.stringMatching(/^prom\/prometheus:v\d+\.\d+\.\d+$/),
      expect.stringMatching(/^grafana\/grafana:\d+\.\d+\.\d+$/),
    ]);
    const mounts = [...compose.matchAll(/^\s+-\s+(\.\/[^:]+):/gm)].map((m) => m[1]);
    expect(mounts.length).toBeGreaterThanOrEqual(3);
    for (const m of mounts)
      expect({ m, exists: fs.existsSync(path.join(root, m)) }).toEqual({ m, exists: true });
    expect(compose).toContain('- ./docker/observability/grafana/dashboards:/var/lib/grafana/dashboards:ro');
    expect(read('docker/observability/grafana/provisioning/dashboards/email-core.yml')).toMatch(
      /path: \/var\/lib\/grafana\/dashboards$/m,
    );
  });

  it('prometheus.yml is a valid configuration (promtool check config) scraping both apps with the bearer', () => {
    const config = read('docker/observability/prometheus.yml');
    expect([...config.matchAll(/job_name: (\S+)/g)].map((m) => m[1])).toEqual([
      'email-core-producer',
      'email-core-consumer',
    ]);
    expect([...config.matchAll(/credentials_file: (\S+)/g)].map((m) => m[1])).toEqual([
      '/run/secrets/metrics_token',
      '/run/secrets/metrics_token',
    ]);
    // the compose secret's file stands in for the one Docker mounts, so promtool checks the file too
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prometheus-config-'));
    try {
      const token = path.join(dir, 'metrics_token');
      fs.writeFileSync(token, 'a-token\n');
      const file = path.join(dir, 'prometheus.yml');
      fs.writeFileSync(file, config.replaceAll('/run/secrets/metrics_token', token));
      expect(promtool(['check', 'config', file])).toMatchObject({
        status: 0,
        output: expect.stringContaining('SUCCESS') as unknown,
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
