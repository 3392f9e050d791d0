import { spawn, type ChildProcess } from 'node:child_process';
import { appBuildIsFresh, appBundle, ensureAppBuild } from './builds';
import { waitFor } from './wait-for';
import * as fs from 'node:fs';
import path from 'node:path';

export type AppName = 'producer' | 'consumer' | 'outlook-emulator';

export interface SpawnedApp {
  child: ChildProcess;
  /** stdout and stderr so far */
  output: () => string;
  /** resolves with the exit code (or signal) */
  exited: Promise<number | string>;
  stop: () => Promise<void>;
}

const root = path.resolve(__dirname, '../../..');

/**
 * Starts an app as its own process with exactly the environment given (plus PATH and the emulator's CA), so tests
 * see what an operator sees: its production bundle (`dist/apps/<name>/main.js` of `nest build`, what the Dockerfile
 * runs) when that is newer than every source it is built from (as after CI's `npm run build`), else its entry point
 * (`apps/<name>/src/main.ts`) compiled on the fly by @swc-node/register (a developer's edited checkout). The bundle
 * starts on about half the CPU time (no TypeScript compiled per process), which the test suite's ~60 product starts
 * on a 2-core machine feel. `built` forces either. The producer and consumer get the CA as `npm start` gives it, for their Microsoft requests only
 * (MS_CA_FILE, set by scripts/run-jest.ts), never as NODE_EXTRA_CA_CERTS; the emulator (whose webhook tests post
 * to HTTPS receivers with certificates of the same CA) gets NODE_EXTRA_CA_CERTS. `env` may override either.
 */
export function spawnApp(
  name: AppName,
  env: Record<string, string>,
  opts: {
    /** node's own flags before the script (e.g. `--cpu-prof`, which NODE_OPTIONS refuses) */
    nodeArgs?: string[];
    /**
     * true: the production build (`dist/apps/<name>/main.js` of `nest build <name>`), built first when stale (for
     * benchmarks and tests of the process as deployed, memory above all); false: the sources compiled on the fly;
     * unset: the build when it is fresh, else the sources
     */
    built?: boolean;
  } = {},
): SpawnedApp {
  // (Jest run without scripts/run-jest.ts, so without MS_CA_FILE: NODE_EXTRA_CA_CERTS as before, if any)
  const trust =
    name === 'outlook-emulator' || !process.env.MS_CA_FILE
      ? { NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS }
      : { MS_CA_FILE: process.env.MS_CA_FILE };
  if (opts.built) ensureAppBuild(name);
  const built = opts.built ?? appBuildIsFresh(name);
  const child = spawn(
    process.execPath,
    built
      ? [...(opts.nodeArgs ?? []), appBundle(name)]
      : [...(opts.nodeArgs ?? []), '-r', '@swc-node/register', path.join('apps', name, 'src', 'main.ts')],
    {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'test',
        // the Outlook emulator's local CA (scripts/run-jest.ts), so apps verify the emulator's HTTPS
        ...Object.fromEntries(Object.entries(trust).filter(([, v]) => v)),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  // TEST_APP_LOG_DIR keeps every app's output in a file of its own (for reading a failed run afterwards)
  const logDir = process.env.TEST_APP_LOG_DIR;
  const logFile = logDir ? path.join(logDir, `${name}-${child.pid ?? 'x'}.log`) : undefined;
  if (logDir) fs.mkdirSync(logDir, { recursive: true });
  const keep = (d: Buffer) => {
    out += d.toString();
    if (logFile) fs.appendFileSync(logFile, d);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return {
    child,
    output: () => out,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/**
 * Waits until `url` answers 200, failing at once (with the app's output) when the app exits first, and with its
 * output when the time runs out. `app` is a getter, so a caller that respawns the app waits on the current one.
 */
export async function waitForHealthy(app: () => SpawnedApp, url: string, timeoutMs = 60_000): Promise<void> {
  const up = await waitFor(
    async () => {
      if (app().child.exitCode !== null) return false;
      const r = await fetch(url, { signal: AbortSignal.timeout(3000) });
      return r.status === 200 ? true : undefined;
    },
    { timeoutMs, intervalMs: 300, what: `${url} to answer 200` },
  ).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}\noutput:\n${app().output()}`);
  });
  if (!up) throw new Error(`the app exited before ${url} answered:\n${app().output()}`);
}
