import { spawnSync } from 'node:child_process';
import { defaultCertDir, ensureCertificates, extraCaCertsFile } from '@email-core/certs';

/**
 * Benchmarks talk to the emulator over HTTPS from this process, and Node reads NODE_EXTRA_CA_CERTS only at
 * startup: without the emulator's CA in it, the benchmark runs itself again with it. The apps it spawns get the CA
 * as MS_CA_FILE instead (as under `npm start`). Returns the CA (PEM).
 */
export function withEmulatorCa(): string {
  const certs = ensureCertificates({ certDir: defaultCertDir(), hostnames: ['localhost', '127.0.0.1'] });
  // the producer and consumer a benchmark spawns (libs/testing's spawnApp) trust it for Microsoft requests only
  process.env.MS_CA_FILE = certs.caPath;
  const caFile = extraCaCertsFile(certs, process.env.NODE_EXTRA_CA_CERTS);
  if (process.env.NODE_EXTRA_CA_CERTS !== caFile) {
    const child = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
      stdio: 'inherit',
      env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile },
    });
    process.exit(child.status ?? 1);
  }
  return certs.ca;
}
