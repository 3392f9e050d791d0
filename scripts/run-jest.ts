/**
 * `npm test`: Jest, with the bundled Outlook emulator's local CA trusted. It makes sure the CA and the
 * emulator's certificate exist (libs/certs), then runs Jest with
 * NODE_EXTRA_CA_CERTS naming the CA (added to any extra CAs the environment already names), so every test
 * process (and the emulator a test spawns) verifies the emulator's HTTPS like any other server's, and with
 * MS_CA_FILE naming it, which libs/testing's spawnApp hands the producer and consumer instead: as under
 * `npm start`, they trust the CA for their Microsoft requests only.
 *
 * With arguments, they go to one Jest run as-is (`npm test -- test/e2e/auth.e2e-spec.ts`). Without, the whole
 * suite runs in three phases (docs/development.md, "How npm test runs"):
 *   1. the unit project;
 *   2. the integration project's files that only wait on the stack, two at a time: the suite spends most of its time
 *      waiting (syncs, rounds, Kafka session timeouts after a kill), measured at 35% CPU busy on two cores in band;
 *   3. the files that measure time or drive a browser (SERIAL below), one at a time, on an otherwise quiet machine.
 * Every phase runs even when an earlier one failed; the exit code is the first failure's.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { defaultCertDir, ensureCertificates, extraCaCertsFile } from '@email-core/certs';

const root = path.resolve(__dirname, '..');

/**
 * Integration files that run alone: event-loop stall and latency budgets (fuzz, body-limits, health-load, apps-boot,
 * graph-webhook's bystander probe, mail-read's search time, retry-consumer's due times, the IDLE latencies of
 * imap-idle and imap-live), the two files that pause or time the stack's shared read replica (read-replica,
 * postgres-replica), `npm start`'s whole product, and every Chromium file (Playwright's timeouts and the
 * screenshots). Two workers failed the stall, latency and browser files under CPU contention (issue 18's notes,
 * sessions 17 and 18).
 */
const SERIAL =
  '(fuzz|body-limits|health-load|apps-boot|graph-webhook|mail-read|retry-consumer|read-replica|postgres-replica|npm-start|imap-idle|imap-live|dashboard-)';

const hostnames = (process.env.EMULATOR_HOSTNAMES ?? 'localhost,127.0.0.1')
  .split(',')
  .map((h) => h.trim())
  .filter(Boolean);
const certs = ensureCertificates({ certDir: defaultCertDir(), hostnames });

const env = {
  ...process.env,
  NODE_EXTRA_CA_CERTS: extraCaCertsFile(certs, process.env.NODE_EXTRA_CA_CERTS),
  // what the producer and consumer that tests spawn trust the emulator by: for their Microsoft requests only
  MS_CA_FILE: certs.caPath,
};

let current: ReturnType<typeof spawn> | undefined;
const forward = (signal: NodeJS.Signals) => () => {
  if (current && current.exitCode === null && current.signalCode === null) current.kill(signal);
  else process.exit(128 + os.constants.signals[signal]);
};
process.on('SIGINT', forward('SIGINT'));
process.on('SIGTERM', forward('SIGTERM'));

function jest(args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        path.join(root, 'node_modules', 'jest', 'bin', 'jest.js'),
        // In CI a handle a failed test left open (a connected Kafka client) must not hang the run until its time
        // limit: Jest still prints "did not exit one second after", and the results are already final.
        ...(process.env.CI === 'true' ? ['--forceExit'] : []),
        ...args,
      ],
      { cwd: root, env, stdio: 'inherit' },
    );
    current = child;
    child.on('error', (err) => {
      process.stderr.write(`[run-jest] could not start Jest: ${err.message}\n`);
      resolve(1);
    });
    child.on('exit', (code, signal) => {
      resolve(code ?? 128 + (signal ? os.constants.signals[signal] : 0));
    });
  });
}

async function main(): Promise<number> {
  const given = process.argv.slice(2);
  if (given.length > 0) return jest(given);
  const phases: Array<{ name: string; args: string[] }> = [
    { name: 'unit', args: ['--selectProjects', 'unit'] },
    {
      name: 'integration, two at a time',
      args: ['--maxWorkers=2', '--testPathIgnorePatterns', SERIAL, '--selectProjects', 'integration'],
    },
    {
      name: 'integration, timing and browser files one at a time',
      args: ['--runInBand', '--testPathPattern', SERIAL, '--selectProjects', 'integration'],
    },
  ];
  const results: string[] = [];
  let exit = 0;
  for (const phase of phases) {
    const started = Date.now();
    process.stdout.write(`\n[run-jest] phase: ${phase.name}\n`);
    const code = await jest(phase.args);
    results.push(`${phase.name}: exit ${code}, ${Math.round((Date.now() - started) / 1000)} s`);
    if (code !== 0 && exit === 0) exit = code;
  }
  process.stdout.write(`\n[run-jest] ${results.join('; ')}\n`);
  return exit;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`[run-jest] ${String(err)}\n`);
    process.exit(1);
  },
);
