import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, utimesSync } from 'node:fs';
import path from 'node:path';
import type { AppName } from './spawn-app';

const root = path.resolve(__dirname, '../../..');
const dashboard = path.join(root, 'apps', 'dashboard');

function newestMtime(entry: string): number {
  const stat = statSync(entry);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const child of readdirSync(entry)) newest = Math.max(newest, newestMtime(path.join(entry, child)));
  return newest;
}

function builtAt(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0; // not built yet
  }
}

/** Runs a build step (a node script of node_modules) in the checkout, failing with its output. */
function build(what: string, script: string[], timeoutMs: number): void {
  const run = spawnSync(process.execPath, script, { cwd: root, encoding: 'utf8', timeout: timeoutMs });
  if (run.status !== 0) throw new Error(`${what} failed:\n${run.stdout}\n${run.stderr}`);
}

/**
 * The producer serves the dashboard's production build; build it when it is missing or older than its sources
 * (CI's `npm run build` has done it already, so this is a no-op there).
 */
export function ensureDashboardBuild(): void {
  const sources = Math.max(
    ...['src', 'index.html', 'vite.config.ts'].map((p) => newestMtime(path.join(dashboard, p))),
  );
  if (builtAt(path.join(dashboard, 'dist', 'index.html')) > sources) return;
  build(
    'dashboard build',
    [path.join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', dashboard],
    180_000,
  );
}

/** The app's bundle path, relative to the checkout. */
export const appBundle = (name: AppName): string => path.join('dist', 'apps', name, 'main.js');

/**
 * Whether `dist/apps/<name>/main.js` exists and is newer than every source it is built from (the app's, every lib's,
 * the TypeScript and Nest configuration).
 */
export function appBuildIsFresh(name: AppName): boolean {
  const sources = Math.max(
    ...[path.join('apps', name, 'src'), 'libs', 'tsconfig.json', 'tsconfig.build.json', 'nest-cli.json'].map(
      (p) => newestMtime(path.join(root, p)),
    ),
  );
  return builtAt(path.join(root, appBundle(name))) > sources;
}

/**
 * An app's production bundle (`dist/apps/<name>/main.js` of `nest build <name>`, what the Dockerfile runs), for
 * tests that measure the process as deployed: built when missing or older than the app's or any lib's sources, so
 * after CI's `npm run build` (which keeps every app's bundle) this is a no-op.
 */
export function ensureAppBuild(name: AppName): void {
  if (appBuildIsFresh(name)) return;
  build(
    `nest build ${name}`,
    [path.join(root, 'node_modules', '@nestjs', 'cli', 'bin', 'nest.js'), 'build', name],
    300_000,
  );
  // webpack leaves an output whose content did not change untouched (compareBeforeEmit): mark it built now
  const now = new Date();
  utimesSync(path.join(root, appBundle(name)), now, now);
}
