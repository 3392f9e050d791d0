import * as fs from 'node:fs';
import * as path from 'node:path';

/** One line of the fault suite's report: a scenario that passed, with the counts its checks compared. */
export interface ScenarioRecord {
  scenario: string;
  /** the test file it came from */
  file: string;
  /** what was compared: mailbox sizes, duplicates, lag, requests... every figure the assertions checked */
  compared: Record<string, number | string | boolean>;
  /** the faults it injected, in words (e.g. "broker SIGKILLed at 4,120 of 12,000 messages, down 6 s") */
  faults: string[];
  durationMs: number;
  at: string;
}

const root = path.resolve(__dirname, '../../../..');
export const FAULTS_REPORT_DIR = path.join(root, 'test-results', 'faults');
export const FAULTS_SCENARIOS_FILE = path.join(FAULTS_REPORT_DIR, 'scenarios.jsonl');

/**
 * Appends a passed scenario to `test-results/faults/scenarios.jsonl`; `npm run test:faults` prints the table and
 * writes report.md / report.json from it. Call it last, after the scenario's assertions held.
 */
export function recordScenario(record: Omit<ScenarioRecord, 'at' | 'file'> & { file: string }): void {
  fs.mkdirSync(FAULTS_REPORT_DIR, { recursive: true });
  // each `npm run test:faults` names its own file, so runs side by side never mix their rows
  const file = process.env.FAULTS_SCENARIOS_FILE ?? FAULTS_SCENARIOS_FILE;
  const line: ScenarioRecord = {
    ...record,
    file: path.relative(root, record.file),
    at: new Date().toISOString(),
  };
  fs.appendFileSync(file, `${JSON.stringify(line)}\n`);
}

export function readScenarios(file = FAULTS_SCENARIOS_FILE): ScenarioRecord[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ScenarioRecord);
}
