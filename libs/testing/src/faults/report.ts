import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Convergence } from './converge';

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
export function recordScenario(
  record: Omit<ScenarioRecord, 'at' | 'file'> & {
    file: string;
    /** the scenario's end check: its standard counts join `compared` (so every row reports them alike) */
    converged?: Convergence;
  },
): void {
  fs.mkdirSync(FAULTS_REPORT_DIR, { recursive: true });
  // each `npm run test:faults` names its own file, so runs side by side never mix their rows
  const file = process.env.FAULTS_SCENARIOS_FILE ?? FAULTS_SCENARIOS_FILE;
  const { converged, ...rest } = record;
  const line: ScenarioRecord = {
    ...rest,
    compared: { ...record.compared, ...(converged ? standardCounts(converged) : {}) },
    file: path.relative(root, record.file),
    at: new Date().toISOString(),
  };
  fs.appendFileSync(file, `${JSON.stringify(line)}\n`);
}

/** what every scenario's end check compared, in the report's order */
function standardCounts(c: Convergence): Record<string, number> {
  return {
    messages: c.messages,
    folders: c.folders,
    duplicateRows: c.duplicateRows,
    bodiesMissing: c.bodiesMissing,
    kafkaLag: c.kafkaLag,
    deadLetters: c.deadLetters,
    outboxUnpublished: c.outboxUnpublished,
    commandsInFlight: c.commandsInFlight,
    graphRequestsWhileQuiet: c.graphRequestsWhileQuiet,
    retriesWhileQuiet: c.retriesWhileQuiet,
    quietWindows: c.quietWindows,
  };
}

export function readScenarios(file = FAULTS_SCENARIOS_FILE): ScenarioRecord[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ScenarioRecord);
}
