import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CpuProfile } from './cpu-profile';
import { writeCpuProfilePreload } from './cpu-profile-preload';

/** A real Node process run with the preload, its profiles read back (no infrastructure: one child process). */
describe("writeCpuProfilePreload (the benchmarks' CPU profiles)", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cpu-preload-'));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** runs `script` under the preload; answers its pid and the profiles it left, by file name */
  const run = (preload: string, script: string) => {
    const pid = Number(
      execFileSync(process.execPath, ['--require', preload, '-e', script], {
        env: { ...process.env, NODE_OPTIONS: '', CPU_PROFILE_DIR: dir },
        encoding: 'utf8',
      }).trim(),
    );
    const profiles = fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
    const read = (name: string) => JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as CpuProfile;
    return { pid, profiles: profiles.sort(), read };
  };
  const busy = 'const until = Date.now() + 60; while (Date.now() < until) Math.sqrt(Math.random());';

  it('exit: profiles the whole life and writes <pid>.cpuprofile as the process ends', () => {
    const { pid, profiles, read } = run(
      writeCpuProfilePreload(dir, 'exit'),
      `${busy} console.log(process.pid);`,
    );
    expect(profiles).toEqual([`${pid}.cpuprofile`]);
    const profile = read(profiles[0]);
    expect(profile.samples.length).toBeGreaterThan(10);
    expect(profile.nodes.length).toBeGreaterThan(1);
  });

  it('sigusr2: profiles from one SIGUSR2 to the next, each as <pid>-<n>.cpuprofile, and the process goes on', () => {
    const script = `
      const phase = () => { ${busy} };
      process.kill(process.pid, 'SIGUSR2');
      setTimeout(() => {
        phase();
        process.kill(process.pid, 'SIGUSR2');
        setTimeout(() => {
          process.kill(process.pid, 'SIGUSR2');
          setTimeout(() => {
            phase();
            process.kill(process.pid, 'SIGUSR2');
            setTimeout(() => console.log(process.pid), 50);
          }, 20);
        }, 20);
      }, 20);`;
    const { pid, profiles, read } = run(writeCpuProfilePreload(dir, 'sigusr2'), script);
    expect(profiles).toEqual([`${pid}-1.cpuprofile`, `${pid}-2.cpuprofile`]);
    for (const name of profiles) expect(read(name).samples.length).toBeGreaterThan(10);
  });
});
