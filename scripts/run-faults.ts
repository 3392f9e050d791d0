/**
 * `npm run test:faults`: the fault suite (test/faults, jest.faults.config.cjs), one file at a time, against the
 * real stack, then its report. Each scenario that passes appends what it compared to
 * test-results/faults/scenarios.jsonl; this prints them as a table and writes report.md and report.json next to
 * it, with every failed test named. Extra arguments go to Jest (a file pattern, `-t name`).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FAULTS_REPORT_DIR, FAULTS_SCENARIOS_FILE, readScenarios } from '../libs/testing/src/faults/report';

const root = path.resolve(__dirname, '..');
fs.mkdirSync(FAULTS_REPORT_DIR, { recursive: true });
// this run's own rows and Jest results (a second run side by side writes its own), renamed at the end
const ownScenarios = path.join(FAULTS_REPORT_DIR, `scenarios.${process.pid}.jsonl`);
const jestJson = path.join(FAULTS_REPORT_DIR, `jest.${process.pid}.json`);

const started = Date.now();
const jest = spawnSync(
  path.join(root, 'node_modules', '.bin', 'tsx'),
  [
    path.join(root, 'scripts', 'run-jest.ts'),
    '--config',
    path.join(root, 'jest.faults.config.cjs'),
    '--runInBand',
    '--json',
    '--outputFile',
    jestJson,
    ...process.argv.slice(2),
  ],
  { cwd: root, stdio: 'inherit', env: { ...process.env, FAULTS_SCENARIOS_FILE: ownScenarios } },
);
const seconds = Math.round((Date.now() - started) / 1000);

interface JestJson {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  testResults: Array<{ name: string; assertionResults: Array<{ fullName: string; status: string }> }>;
}
let results: JestJson | undefined;
try {
  results = JSON.parse(fs.readFileSync(jestJson, 'utf8')) as JestJson;
} catch {
  // Jest did not get as far as writing its results
}
const failed = (results?.testResults ?? []).flatMap((f) =>
  f.assertionResults
    .filter((a) => a.status !== 'passed')
    .map((a) => `${a.status}: ${path.relative(root, f.name)} › ${a.fullName}`),
);

const scenarios = readScenarios(ownScenarios);
if (fs.existsSync(ownScenarios)) fs.renameSync(ownScenarios, FAULTS_SCENARIOS_FILE);
else fs.rmSync(FAULTS_SCENARIOS_FILE, { force: true });
if (fs.existsSync(jestJson)) fs.renameSync(jestJson, path.join(FAULTS_REPORT_DIR, 'jest.json'));
const fmt = (v: unknown) => (typeof v === 'number' ? v.toLocaleString('en-US') : String(v));
const lines = [
  '# Fault suite report',
  '',
  `\`npm run test:faults\`: ${results?.numPassedTests ?? 0} passed, ${results?.numFailedTests ?? '?'} failed, ` +
    `${results?.numPendingTests ?? 0} skipped, ${seconds} s (Jest exit ${jest.status ?? jest.signal}).`,
  '',
  '| scenario | faults injected | counts compared | s |',
  '|---|---|---|---|',
  ...scenarios.map(
    (s) =>
      `| ${s.scenario} | ${s.faults.join('; ')} | ${Object.entries(s.compared)
        .map(([k, v]) => `${k} ${fmt(v)}`)
        .join(', ')} | ${Math.round(s.durationMs / 1000)} |`,
  ),
  ...(failed.length ? ['', '## Not passed', '', ...failed.map((f) => `- ${f}`)] : []),
  '',
];
fs.writeFileSync(path.join(FAULTS_REPORT_DIR, 'report.md'), lines.join('\n'));
fs.writeFileSync(
  path.join(FAULTS_REPORT_DIR, 'report.json'),
  `${JSON.stringify({ seconds, jestExit: jest.status, passed: results?.numPassedTests, failed, scenarios }, null, 2)}\n`,
);
process.stdout.write(
  `\n${lines.join('\n')}\n(written to ${path.relative(root, FAULTS_REPORT_DIR)}/report.md)\n`,
);
process.exit(jest.status ?? 1);
