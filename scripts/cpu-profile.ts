/**
 * `npm run profile:summary -- <file.cpuprofile> [--top N] [--callers <function>]`: what a V8 CPU profile (the
 * benchmarks' BENCH_*_CPU_PROF, `node --cpu-prof`, Chrome's devtools) spent its samples on, as text:
 * - self time by package (a `node_modules` package, a Node built-in module, an app or lib bundle of `dist`, or the
 *   native frame's name: `writev`, `(garbage collector)`, `(idle)`);
 * - inclusive time by package (each sample counted once per package on its stack);
 * - self time by function;
 * - with `--callers <function>`: who calls that function (usually a native frame such as `writev`), as the nearest
 *   three frames of the stack outside Node's internals.
 * Shares are of all samples, idle included. docs/performance.md's profiles (sessions 24–29) were read this way.
 */
import fs from 'node:fs';

export interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: CpuProfileNode[];
  samples: number[];
  startTime: number;
  endTime: number;
}

export interface Share {
  name: string;
  samples: number;
  /** of all samples, 0–1 */
  share: number;
}

export interface ProfileSummary {
  samples: number;
  seconds: number;
  selfByPackage: Share[];
  inclusiveByPackage: Share[];
  selfByFunction: Share[];
}

/** the package a frame's script belongs to, or undefined for a native frame (no script) */
export function packageOf(url: string): string | undefined {
  if (!url) return undefined;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const bundle = /dist\/(?:apps|libs)\/[^/]+/.exec(url);
  if (bundle) return bundle[0];
  return url.split('/').slice(-2).join('/');
}

const frameName = (n: CpuProfileNode) =>
  `${n.callFrame.functionName || '(anonymous)'} ${packageOf(n.callFrame.url) ?? '(native)'}:${n.callFrame.lineNumber}`;

function ranked(counts: Map<string, number>, total: number, top: number): Share[] {
  return [...counts]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, top)
    .map(([name, samples]) => ({ name, samples, share: total === 0 ? 0 : samples / total }));
}

function index(profile: CpuProfile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const hits = new Map<number, number>();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  const stack = function* (id: number): Generator<CpuProfileNode> {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const node = byId.get(at);
      if (node) yield node;
    }
  };
  return { byId, hits, stack };
}

const add = (m: Map<string, number>, k: string, n: number) => m.set(k, (m.get(k) ?? 0) + n);

export function summarize(profile: CpuProfile, top = 30): ProfileSummary {
  const { byId, hits, stack } = index(profile);
  const selfByPackage = new Map<string, number>();
  const inclusiveByPackage = new Map<string, number>();
  const selfByFunction = new Map<string, number>();
  for (const [id, n] of hits) {
    const node = byId.get(id);
    if (!node) continue;
    add(selfByPackage, packageOf(node.callFrame.url) ?? node.callFrame.functionName, n);
    add(selfByFunction, frameName(node), n);
    const seen = new Set<string>();
    for (const frame of stack(id)) {
      const pkg = packageOf(frame.callFrame.url);
      if (pkg && !seen.has(pkg)) {
        seen.add(pkg);
        add(inclusiveByPackage, pkg, n);
      }
    }
  }
  const total = profile.samples.length;
  return {
    samples: total,
    seconds: (profile.endTime - profile.startTime) / 1e6,
    selfByPackage: ranked(selfByPackage, total, top),
    inclusiveByPackage: ranked(inclusiveByPackage, total, top),
    selfByFunction: ranked(selfByFunction, total, top),
  };
}

/** Who calls `fn` (its samples, by the nearest `depth` frames outside Node's internals and native frames). */
export function callersOf(profile: CpuProfile, fn: string, top = 15, depth = 3): Share[] {
  const { byId, hits, stack } = index(profile);
  const callers = new Map<string, number>();
  for (const [id, n] of hits) {
    const node = byId.get(id);
    if (!node || node.callFrame.functionName !== fn) continue;
    const chain: string[] = [];
    for (const frame of stack(id)) {
      if (frame === node) continue;
      const pkg = packageOf(frame.callFrame.url);
      if (!pkg || pkg.startsWith('node:')) continue;
      chain.push(frameName(frame));
      if (chain.length >= depth) break;
    }
    add(callers, chain.join(' < ') || '(no caller outside Node)', n);
  }
  return ranked(callers, profile.samples.length, top);
}

function print(title: string, shares: Share[]): void {
  console.log(`== ${title}`);
  for (const s of shares) console.log(`${(100 * s.share).toFixed(1).padStart(6)} %  ${s.name}`);
}

function main(argv: string[]): number {
  const file = argv.find((a, i) => !a.startsWith('--') && !['--top', '--callers'].includes(argv[i - 1]));
  const option = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const top = Number(option('--top') ?? 30);
  if (!file || !Number.isInteger(top) || top <= 0) {
    console.error('usage: npm run profile:summary -- <file.cpuprofile> [--top N] [--callers <function>]');
    return 2;
  }
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const callers = option('--callers');
  if (callers) {
    print(`callers of ${callers}`, callersOf(profile, callers, top));
    return 0;
  }
  const s = summarize(profile, top);
  console.log(`${s.samples} samples over ${s.seconds.toFixed(1)} s`);
  print('self, by package', s.selfByPackage);
  print('inclusive, by package', s.inclusiveByPackage);
  print('self, by function', s.selfByFunction);
  return 0;
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
