/**
 * The preload the benchmarks profile an app's CPU with (`BENCH_SCALE_CPU_PROF`, `BENCH_WEBHOOK_CPU_PROF`,
 * bench:imap-sync's `--cpu-prof`): Node refuses `--cpu-prof` in NODE_OPTIONS, so a `--require`d script drives the
 * inspector's profiler instead, sampling every 1 ms, and writes each profile into the process's `CPU_PROFILE_DIR`
 * (read them with `npm run profile:summary` or Chrome's devtools):
 * - `exit`: from the process's start to its exit, as `<pid>.cpuprofile`;
 * - `sigusr2`: from a SIGUSR2 to the next one, as `<pid>-<n>.cpuprofile` (a phase of a long run: bench:scale toggles
 *   it around each change phase). The process must not stop on SIGUSR2 itself (the emulator's shutdown hooks take
 *   SIGTERM and SIGINT only for this reason).
 */
import fs from 'node:fs';
import path from 'node:path';

export type CpuProfileMode = 'exit' | 'sigusr2';

const SESSION = `const inspector = require('node:inspector');
const fs = require('node:fs');
const path = require('node:path');
const session = new inspector.Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.setSamplingInterval', { interval: 1000 });
const write = (name, result) =>
  fs.writeFileSync(path.join(process.env.CPU_PROFILE_DIR, name), JSON.stringify(result.profile));
`;

const BODIES: Record<CpuProfileMode, string> = {
  exit: `session.post('Profiler.start');
let written = false;
process.on('exit', () => {
  if (written) return;
  written = true;
  // a session of the process's own thread answers at once: the profile is written before the process ends
  session.post('Profiler.stop', (err, result) => {
    if (!err) write(process.pid + '.cpuprofile', result);
  });
});
`,
  sigusr2: `let on = false;
let n = 0;
process.on('SIGUSR2', () => {
  if (!on) {
    on = true;
    session.post('Profiler.start');
    return;
  }
  on = false;
  session.post('Profiler.stop', (err, result) => {
    n += 1;
    if (!err) write(process.pid + '-' + n + '.cpuprofile', result);
  });
});
`,
};

/** Writes the preload for `mode` into `dir` (created if missing) and answers its path, for `--require`. */
export function writeCpuProfilePreload(dir: string, mode: CpuProfileMode): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.resolve(
    dir,
    mode === 'exit' ? 'cpu-profile-preload.cjs' : `cpu-profile-preload-${mode}.cjs`,
  );
  fs.writeFileSync(file, SESSION + BODIES[mode]);
  return file;
}
