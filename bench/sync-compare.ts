/**
 * `npm run bench:sync-compare -- <base commit> [rounds]`: `npm run bench:sync` at an earlier commit and at this
 * checkout, interleaved (base, head, base, head, …) on the same machine in the same run, so load from elsewhere
 * falls on both alike. The base is exported with `git archive` into a scratch folder that borrows this
 * checkout's node_modules; both use the stack this checkout's tests use (the environment, or `.stack/endpoints.env`).
 *
 * Prints each round, the means, and `ratio: <head mean seconds / base mean seconds>` (below 1: head is faster);
 * writes bench/results/sync-compare.json.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { report } from './report';

interface SyncResult {
  endToEnd: { seconds: number; messagesPerSecond: number };
  baselineCopy: { seconds: number };
}

const root = path.resolve(__dirname, '..');

function endpointsEnv(): NodeJS.ProcessEnv {
  const file = path.join(root, '.stack', 'endpoints.env');
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (env.DATABASE_URL && env.KAFKA_BROKERS && env.REDIS_CLUSTER_NODES) return env;
  if (!fs.existsSync(file)) throw new Error('no stack endpoints: run `npm run stack:up` first');
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1]] = m[2];
  }
  return env;
}

function runOnce(dir: string, env: NodeJS.ProcessEnv): SyncResult {
  const out = spawnSync('npx', ['tsx', 'bench/sync.ts'], { cwd: dir, env, encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`bench:sync failed in ${dir}:\n${out.stdout}\n${out.stderr}`);
  return JSON.parse(fs.readFileSync(path.join(dir, 'bench', 'results', 'sync.json'), 'utf8')) as SyncResult;
}

function main(): void {
  const base = process.argv[2];
  const rounds = Number(process.argv[3] ?? 2);
  if (!base || !Number.isInteger(rounds) || rounds < 1) {
    throw new Error('usage: npm run bench:sync-compare -- <base commit> [rounds]');
  }
  const baseSha = execFileSync('git', ['rev-parse', '--short', base], { cwd: root, encoding: 'utf8' }).trim();
  const headSha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
    cwd: root,
    encoding: 'utf8',
  }).trim();
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-base-'));
  execFileSync('sh', ['-c', `git archive ${baseSha} | tar -x -C "${scratch}"`], { cwd: root });
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(scratch, 'node_modules'));
  const env = endpointsEnv();
  // bench:sync writes its own JSON; keep this checkout's copy as it was
  const ownResult = path.join(root, 'bench', 'results', 'sync.json');
  const kept = fs.existsSync(ownResult) ? fs.readFileSync(ownResult) : undefined;
  const runs: Array<{ commit: string; seconds: number; messagesPerSecond: number; copySeconds: number }> = [];
  try {
    for (let i = 0; i < rounds; i += 1) {
      for (const [commit, dir] of [
        [baseSha, scratch],
        [headSha, root],
      ] as const) {
        const r = runOnce(dir, env);
        runs.push({
          commit,
          seconds: r.endToEnd.seconds,
          messagesPerSecond: r.endToEnd.messagesPerSecond,
          copySeconds: r.baselineCopy.seconds,
        });
        console.log(`round ${i + 1} ${commit}: ${r.endToEnd.seconds} s (COPY ${r.baselineCopy.seconds} s)`);
      }
    }
  } finally {
    if (kept) fs.writeFileSync(ownResult, kept);
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  const mean = (sha: string) => {
    const xs = runs.filter((r) => r.commit === sha).map((r) => r.seconds);
    return xs.reduce((a, b) => a + b, 0) / xs.length;
  };
  const baseMean = mean(baseSha);
  const headMean = mean(headSha);
  const ratio = Math.round((headMean / baseMean) * 1000) / 1000;
  const rows = [
    ['measure', 'value', 'aim'],
    ...runs.map((r, i) => [
      `run ${i + 1}: ${r.commit === baseSha ? 'base' : 'head'} ${r.commit}`,
      `${r.seconds} s, ${r.messagesPerSecond} msg/s (COPY ${r.copySeconds} s)`,
      '',
    ]),
    [`base ${baseSha} mean`, `${baseMean.toFixed(1)} s`, ''],
    [`head ${headSha} mean`, `${headMean.toFixed(1)} s`, 'no slower (ratio <= 1)'],
  ];
  const results = {
    date: new Date().toISOString(),
    base: baseSha,
    head: headSha,
    rounds,
    runs,
    baseMeanSeconds: baseMean,
    headMeanSeconds: headMean,
    ratio,
  };
  report('sync-compare', rows, results);
}

main();
