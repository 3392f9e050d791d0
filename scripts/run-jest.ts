/**
 * `npm test`: Jest, with the bundled Outlook emulator's local CA trusted. It makes sure the CA and the
 * emulator's certificate exist (libs/certs), then runs Jest with
 * NODE_EXTRA_CA_CERTS naming the CA (added to any extra CAs the environment already names), so every test
 * process (and the emulator a test spawns) verifies the emulator's HTTPS like any other server's, and with
 * MS_CA_FILE naming it, which libs/testing's spawnApp hands the producer and consumer instead: as under
 * `npm start`, they trust the CA for their Microsoft requests only. Arguments go to Jest as-is.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { defaultCertDir, ensureCertificates, extraCaCertsFile } from '@email-core/certs';

const root = path.resolve(__dirname, '..');

const hostnames = (process.env.EMULATOR_HOSTNAMES ?? 'localhost,127.0.0.1')
  .split(',')
  .map((h) => h.trim())
  .filter(Boolean);
const certs = ensureCertificates({ certDir: defaultCertDir(), hostnames });

const child = spawn(
  process.execPath,
  [
    path.join(root, 'node_modules', 'jest', 'bin', 'jest.js'),
    // In CI a handle a failed test left open (a connected Kafka client) must not hang the run until its time
    // limit: Jest still prints "did not exit one second after", and the results are already final.
    ...(process.env.CI === 'true' ? ['--forceExit'] : []),
    ...process.argv.slice(2),
  ],
  {
    cwd: root,
    env: {
      ...process.env,
      NODE_EXTRA_CA_CERTS: extraCaCertsFile(certs, process.env.NODE_EXTRA_CA_CERTS),
      // what the producer and consumer that tests spawn trust the emulator by: for their Microsoft requests only
      MS_CA_FILE: certs.caPath,
    },
    stdio: 'inherit',
  },
);

const forward = (signal: NodeJS.Signals) => () => {
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
};
process.on('SIGINT', forward('SIGINT'));
process.on('SIGTERM', forward('SIGTERM'));

child.on('error', (err) => {
  process.stderr.write(`[run-jest] could not start Jest: ${err.message}\n`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  process.exit(code ?? 128 + (signal ? os.constants.signals[signal] : 0));
});
