// `npm run docker:check`: build the Node Dockerfiles' images without a Docker engine, as far as this machine can.
// For each image (node-app.Dockerfile for producer, consumer and outlook-emulator; dashboard.Dockerfile) it reads the
// Dockerfile and plays its stages in clean temporary folders (one per stage, standing for the image's /): COPY from
// the build context (this checkout, minus .dockerignore) or from an earlier stage, WORKDIR, ARG, ENV, and RUN with
// /bin/sh -c in the stage's WORKDIR. Then it checks what the image needs to start: the file its CMD runs, the
// packages that file requires resolvable from the image's own node_modules, and the target's expected files.
//
// Like Docker's layer cache, a RUN whose whole history is the same (base, files copied with their content, commands,
// ENV and ARGs in scope) runs once and is reused (hard-linked copy), so the install steps the images share run once.
// What it cannot do: the base image itself (RUNs use this machine's Node, npm and /bin/sh; it says when the Node major
// differs from the image's tag), USER (commands run as you), and RUN in a non-Node stage (refused: nothing to emulate).
// It keeps the machine's npm cache: `npm cache clean` in a RUN is skipped (an npm shim), and npm is asked to prefer the
// cache (npm_config_prefer_offline; `--online` turns that off). Usage:
//   tsx scripts/docker-steps.ts [--only producer,dashboard] [--keep] [--online] [--context DIR (default: this checkout)]
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import {
  copyTarget,
  type Dockerfile,
  dockerignore,
  parseArg,
  parseCommand,
  parseCopy,
  parseDockerfile,
  parseEnv,
  type Stage,
  stageByRef,
  substitute,
} from './dockerfile';

const root = path.resolve(__dirname, '..');

export interface Target {
  id: string;
  dockerfile: string;
  buildArgs: Record<string, string>;
  /** Image paths that must exist in the final stage (besides the CMD's file). */
  expect: string[];
}

export const TARGETS: Target[] = [
  {
    id: 'producer',
    dockerfile: 'docker/node-app.Dockerfile',
    buildArgs: { APP: 'producer' },
    expect: ['/app/apps/dashboard/dist/index.html'],
  },
  { id: 'consumer', dockerfile: 'docker/node-app.Dockerfile', buildArgs: { APP: 'consumer' }, expect: [] },
  {
    id: 'outlook-emulator',
    dockerfile: 'docker/node-app.Dockerfile',
    buildArgs: { APP: 'outlook-emulator' },
    expect: [],
  },
  {
    id: 'dashboard',
    dockerfile: 'docker/dashboard.Dockerfile',
    buildArgs: {},
    expect: ['/usr/share/nginx/html/index.html'],
  },
];

interface StageState {
  dir: string; // the folder standing for the image's /
  workdir: string; // image path
  env: Record<string, string>;
  args: Record<string, string | undefined>;
  cmd?: string[];
  key: string; // the layer-cache key of everything so far
}

const log = (s: string) => process.stdout.write(`[docker:check] ${s}\n`);
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const hash = (...parts: string[]) => {
  const h = crypto.createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex');
};

export class Runner {
  /** RUN results by layer key: a folder never written after it is stored. */
  private readonly layers = new Map<string, string>();
  /** How many times each RUN layer is still to be reached (from plan()): snapshot only what a later image reuses. */
  private readonly uses = new Map<string, number>();
  /** plan(): compute the layer keys only (hash the COPY'd files, run nothing, write nothing). */
  private dry = false;
  private readonly ignored: (rel: string) => boolean;
  private counter = 0;
  /** The folders the current image made (removed after it: see done()). */
  private made: string[] = [];
  readonly timings: Array<{ what: string; ms: number; reused: boolean }> = [];

  constructor(
    private readonly context: string,
    private readonly work: string,
    private readonly env: NodeJS.ProcessEnv,
    private readonly say: (s: string) => void = log,
  ) {
    const ignoreFile = path.join(context, '.dockerignore');
    this.ignored = dockerignore(fs.existsSync(ignoreFile) ? fs.readFileSync(ignoreFile, 'utf8') : '');
  }

  /** Count the RUN layers every target reaches (the same key twice: it runs once, later images reuse it). */
  plan(targets: Target[]): void {
    this.dry = true;
    try {
      for (const t of targets) {
        try {
          this.build(t);
        } catch {
          // reported when the target is built for real
        }
      }
    } finally {
      this.dry = false;
    }
  }

  build(target: Target): StageState {
    const file = parseDockerfile(fs.readFileSync(path.join(this.context, target.dockerfile), 'utf8'));
    return this.buildStage(target, file, file.stages[file.stages.length - 1], new Map());
  }

  /** Remove the folders of the image just checked (rm -rf: far quicker than a Node walk for node_modules). */
  done(): number {
    const t0 = Date.now();
    if (this.made.length) spawnSync('rm', ['-rf', ...this.made], { stdio: 'inherit' });
    this.made = [];
    return Date.now() - t0;
  }

  private buildStage(
    target: Target,
    file: Dockerfile,
    stage: Stage,
    built: Map<Stage, StageState>,
  ): StageState {
    const already = built.get(stage);
    if (already) return already;
    const label = `${target.id}: ${target.dockerfile} stage ${stage.name ?? stage.index}`;
    const globalArgs: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(file.globalArgs)) globalArgs[k] = target.buildArgs[k] ?? v;
    const s: StageState = {
      dir: path.join(this.work, `${++this.counter}-${target.id}-${stage.name ?? stage.index}`),
      workdir: '/',
      env: {},
      args: {},
      key: hash('FROM', stage.base),
    };
    if (!this.dry) {
      fs.mkdirSync(s.dir, { recursive: true });
      this.made.push(s.dir);
    }
    const node = /^node:(\d+)/.exec(stage.base);
    if (!this.dry && node && node[1] !== process.versions.node.split('.')[0]) {
      this.say(`${label}: note: the image's Node is ${node[1]}, this machine's is ${process.versions.node}`);
    }
    const vars = () => ({ ...s.args, ...s.env });
    for (const ins of stage.instructions) {
      const where = `${label}, line ${ins.line}`;
      switch (ins.keyword) {
        case 'WORKDIR':
          s.workdir = path.posix.resolve(s.workdir, substitute(ins.args, vars()));
          s.key = hash(s.key, 'WORKDIR', s.workdir);
          break;
        case 'ARG':
          for (const [k, dflt] of Object.entries(parseArg(ins.args))) {
            s.args[k] = target.buildArgs[k] ?? (k in globalArgs ? globalArgs[k] : dflt);
          }
          s.key = hash(s.key, 'ARG', JSON.stringify(s.args));
          break;
        case 'ENV':
          Object.assign(s.env, parseEnv(ins.args, vars()));
          s.key = hash(s.key, 'ENV', JSON.stringify(s.env));
          break;
        case 'COPY': {
          const copy = parseCopy(ins.args, vars());
          if (copy.from !== undefined) {
            const from = this.buildStage(target, file, stageByRef(file, copy.from), built);
            s.key = hash(s.key, 'COPY', from.key, JSON.stringify(copy));
            if (this.dry) break;
            const t0 = Date.now();
            for (const src of copy.sources) {
              const abs = path.posix.resolve(from.workdir, src);
              const real = path.join(from.dir, abs);
              if (!fs.existsSync(real)) {
                throw new Error(
                  `${where}: COPY --from=${copy.from} ${src}: not found in that stage (Docker fails)`,
                );
              }
              const dest = copyTarget(
                abs,
                fs.statSync(real).isDirectory(),
                copy.dest,
                s.workdir,
                copy.sources.length > 1,
              );
              copyTree(real, path.join(s.dir, dest), () => false);
            }
            this.timings.push({ what: `${label}: COPY ${ins.args}`, ms: Date.now() - t0, reused: false });
          } else {
            const t0 = Date.now();
            const contents: string[] = [];
            for (const src of copy.sources) {
              const rel = path.posix.normalize(src).replace(/^\/+/, '');
              const real = path.join(this.context, rel);
              if (rel.startsWith('..') || !fs.existsSync(real) || (rel !== '.' && this.ignored(rel))) {
                throw new Error(`${where}: COPY ${src}: not in the build context (Docker fails)`);
              }
              const dest = copyTarget(
                rel,
                fs.statSync(real).isDirectory(),
                copy.dest,
                s.workdir,
                copy.sources.length > 1,
              );
              const skip = (p: string) => {
                const r = path.relative(this.context, p).split(path.sep).join('/');
                return r !== '' && this.ignored(r);
              };
              contents.push(copyTree(real, this.dry ? undefined : path.join(s.dir, dest), skip));
            }
            s.key = hash(s.key, 'COPY', JSON.stringify(copy), ...contents);
            if (!this.dry)
              this.timings.push({ what: `${label}: COPY ${ins.args}`, ms: Date.now() - t0, reused: false });
          }
          break;
        }
        case 'RUN': {
          if (!node) throw new Error(`${where}: RUN in a stage from ${stage.base}: cannot be emulated here`);
          const key = hash(s.key, 'RUN', ins.args, JSON.stringify(s.env), JSON.stringify(s.args), s.workdir);
          if (this.dry) {
            this.uses.set(key, (this.uses.get(key) ?? 0) + 1);
            s.key = key;
            break;
          }
          const later = (this.uses.get(key) ?? 1) - 1; // how many later images reach this layer again
          this.uses.set(key, later);
          const cached = this.layers.get(key);
          const t0 = Date.now();
          if (cached) {
            this.say(`${where}: RUN ${ins.args}\n    reused: the same layer was built for an earlier image`);
            fs.rmSync(s.dir, { recursive: true, force: true });
            if (later > 0) linkTree(cached, s.dir);
            else {
              fs.renameSync(cached, s.dir); // its last use: move it, no copy
              this.layers.delete(key);
            }
          } else {
            this.say(`${where}: RUN ${ins.args}`);
            const cwd = path.join(s.dir, s.workdir);
            fs.mkdirSync(cwd, { recursive: true });
            const env: NodeJS.ProcessEnv = { ...this.env };
            for (const [k, v] of Object.entries(s.args)) if (v !== undefined) env[k] = v;
            Object.assign(env, s.env);
            const r = spawnSync('/bin/sh', ['-c', ins.args], { cwd, env, stdio: 'inherit' });
            if (r.status !== 0) throw new Error(`${where}: RUN failed (exit ${r.status ?? r.signal})`);
            if (later > 0) {
              const layer = path.join(this.work, 'layers', key.slice(0, 16));
              linkTree(s.dir, layer);
              this.layers.set(key, layer);
            }
          }
          this.timings.push({ what: `${label}: RUN ${ins.args}`, ms: Date.now() - t0, reused: !!cached });
          s.key = key;
          break;
        }
        case 'CMD':
        case 'ENTRYPOINT':
          s.cmd = parseCommand(ins.args);
          break;
        case 'USER':
        case 'EXPOSE':
        case 'LABEL':
          break; // metadata: nothing to play (RUN commands here run as the current user)
        default:
          throw new Error(`${where}: ${ins.keyword} is not supported by docker:check`);
      }
    }
    built.set(stage, s);
    return s;
  }

  /** What the image needs to start: its CMD's file, the packages that file requires, the target's files. */
  check(target: Target, s: StageState): string[] {
    const problems: string[] = [];
    for (const p of target.expect) {
      if (!fs.existsSync(path.join(s.dir, p))) problems.push(`${p} is missing`);
    }
    // node's own options come before the script: `--env-file=<file>` must exist in the image too
    const options = s.cmd && s.cmd[0] === 'node' ? s.cmd.slice(1).filter((a) => a.startsWith('-')) : [];
    for (const option of options) {
      const envFile = /^--env-file=(.+)$/.exec(option)?.[1];
      if (envFile && !fs.existsSync(path.join(s.dir, path.posix.resolve(s.workdir, envFile))))
        problems.push(`CMD ${JSON.stringify(s.cmd)}: ${envFile} is missing`);
    }
    const script = s.cmd && s.cmd[0] === 'node' ? s.cmd.slice(1).find((a) => !a.startsWith('-')) : undefined;
    if (s.cmd && script) {
      const main = path.join(s.dir, path.posix.resolve(s.workdir, script));
      if (!fs.existsSync(main)) problems.push(`CMD ${JSON.stringify(s.cmd)}: ${script} is missing`);
      else {
        const requireFrom = createRequire(main);
        const wanted = new Set<string>();
        const source = fs.readFileSync(main, 'utf8');
        for (const m of source.matchAll(/require\(["']([^"'./][^"']*)["']\)/g)) wanted.add(m[1]);
        const builtins = new Set(builtinModules);
        let resolved = 0;
        for (const spec of wanted) {
          if (spec.startsWith('node:') || builtins.has(spec)) continue;
          try {
            const at = requireFrom.resolve(spec);
            if (!at.startsWith(s.dir + path.sep)) problems.push(`${spec} resolves outside the image (${at})`);
            else resolved++;
          } catch {
            problems.push(`${script} requires ${spec}, not installed in the image`);
          }
        }
        this.say(
          `${target.id}: ${script} exists; the ${resolved} packages it requires resolve in the image's node_modules`,
        );
      }
    }
    return problems;
  }
}

/** Copy a file or folder's contents to `to` (files keep their mode); returns a hash of what was copied.
 * Without `to`, only the hash. */
function copyTree(from: string, to: string | undefined, skip: (p: string) => boolean): string {
  const h = crypto.createHash('sha256');
  const walk = (src: string, dest: string | undefined, rel: string) => {
    const st = fs.lstatSync(src);
    if (st.isDirectory()) {
      if (dest) fs.mkdirSync(dest, { recursive: true });
      for (const name of fs.readdirSync(src).sort()) {
        const child = path.join(src, name);
        if (!skip(child)) walk(child, dest && path.join(dest, name), `${rel}/${name}`);
      }
      return;
    }
    const link = st.isSymbolicLink() ? fs.readlinkSync(src) : undefined;
    if (link !== undefined) h.update(`${rel}\0->${link}\0`);
    else h.update(`${rel}\0${st.mode & 0o111 ? 'x' : '-'}\0`).update(fs.readFileSync(src));
    if (!dest) return;
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.rmSync(dest, { force: true }); // never write through a hard link into a stored layer
    if (link !== undefined) fs.symlinkSync(link, dest);
    else {
      fs.copyFileSync(src, dest);
      fs.chmodSync(dest, st.mode & 0o777);
    }
  };
  walk(from, to, '');
  return h.digest('hex');
}

/** A hard-linked copy of a folder (cp -al): fast, and the later steps here only add or replace files. */
function linkTree(from: string, to: string): void {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  const r = spawnSync('cp', ['-al', from, to], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`cp -al ${from} ${to} failed`);
}

/** The environment RUN sees: no npm-run leftovers (npm_config_local_prefix would point npm at this checkout), no
 * node_modules/.bin of this checkout on PATH (a missing tool must fail, as in the image), the npm cache kept. */
export function runEnv(env: NodeJS.ProcessEnv, shimDir: string, online: boolean): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  const keepNpm =
    /^npm_config_(cache|registry|userconfig|globalconfig|cafile|ca|strict_ssl|proxy|https_proxy|noproxy|loglevel|fund|audit)$/i;
  for (const [k, v] of Object.entries(env)) {
    if (/^npm_/i.test(k) ? keepNpm.test(k) : !/^(INIT_CWD|NODE_OPTIONS|NODE_PATH|NODE_ENV)$/.test(k))
      out[k] = v;
  }
  const pathDirs = (env.PATH ?? '')
    .split(path.delimiter)
    .filter((d) => d && !/node_modules[\\/]\.bin|node-gyp-bin/.test(d));
  out.PATH = [shimDir, ...pathDirs].join(path.delimiter);
  if (!online) out.npm_config_prefer_offline = 'true';
  return out;
}

/** docker-compose*.yml: every build's Dockerfile exists in its context. */
export function composeProblems(dir: string, say: (s: string) => void = log): string[] {
  const problems: string[] = [];
  for (const name of fs
    .readdirSync(dir)
    .filter((f) => /^docker-compose.*\.ya?ml$/.test(f))
    .sort()) {
    const text = fs.readFileSync(path.join(dir, name), 'utf8');
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      const b = /^(\s*)build:\s*(\S.*)?$/.exec(line);
      if (!b) return;
      let context = b[2]?.trim() ?? '';
      let dockerfile = 'Dockerfile';
      for (let j = i + 1; j < lines.length; j++) {
        const m = /^(\s*)(\w+):\s*(.*)$/.exec(lines[j]);
        if (!m) continue;
        if (m[1].length <= b[1].length) break;
        if (m[2] === 'context') context = m[3].trim();
        if (m[2] === 'dockerfile') dockerfile = m[3].trim();
      }
      const ctx = path.resolve(dir, context.replace(/^["']|["']$/g, '') || '.');
      const file = path.resolve(ctx, dockerfile.replace(/^["']|["']$/g, ''));
      if (!fs.existsSync(ctx)) problems.push(`${name}:${i + 1}: build context ${context} does not exist`);
      else if (!fs.existsSync(file))
        problems.push(`${name}:${i + 1}: ${path.relative(dir, file)} does not exist`);
      else say(`${name}:${i + 1}: builds ${path.relative(dir, file)} (exists)`);
    });
  }
  return problems;
}

function main(): void {
  const argv = process.argv.slice(2);
  const keep = argv.includes('--keep');
  const online = argv.includes('--online');
  const contextAt = argv.indexOf('--context');
  const context = contextAt >= 0 ? path.resolve(argv[contextAt + 1]) : root;
  const onlyAt = argv.indexOf('--only');
  const only = onlyAt >= 0 ? argv[onlyAt + 1]?.split(',') : undefined;
  const targets = only ? TARGETS.filter((t) => only.includes(t.id)) : TARGETS;
  if (targets.length === 0) throw new Error(`--only: none of ${TARGETS.map((t) => t.id).join(', ')}`);

  const started = Date.now();
  const problems = composeProblems(root);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'docker-check-'));
  const shimDir = path.join(work, 'bin');
  fs.mkdirSync(shimDir);
  const npm = spawnSync('sh', ['-c', 'command -v npm'], {
    env: runEnv(process.env, shimDir, online),
    encoding: 'utf8',
  }).stdout.trim();
  if (!npm) throw new Error('npm not found on PATH');
  fs.writeFileSync(
    path.join(shimDir, 'npm'),
    `#!/bin/sh\n# docker:check: keep the machine's npm cache\nif [ "$1" = cache ] && [ "$2" = clean ]; then\n` +
      `  echo "[docker:check] skipped: npm $*  (it would empty this machine's npm cache)"; exit 0\nfi\n` +
      `exec ${JSON.stringify(npm)} "$@"\n`,
    { mode: 0o755 },
  );
  log(
    `build context ${context}; work folder ${work}; npm ${npm}${online ? '' : ' (prefer-offline: the npm cache first)'}`,
  );
  const runner = new Runner(context, work, runEnv(process.env, shimDir, online));
  let cleanupMs = 0;
  try {
    runner.plan(targets);
    for (const target of targets) {
      const t0 = Date.now();
      log(
        `== ${target.id} (${target.dockerfile}${Object.entries(target.buildArgs)
          .map(([k, v]) => ` --build-arg ${k}=${v}`)
          .join('')})`,
      );
      try {
        const final = runner.build(target);
        const p = runner.check(target, final);
        problems.push(...p.map((x) => `${target.id}: ${x}`));
        log(`${target.id}: ${p.length ? 'FAILED' : 'ok'} in ${secs(Date.now() - t0)}`);
      } catch (e) {
        problems.push(`${target.id}: ${(e as Error).message}`);
        log(`${target.id}: FAILED in ${secs(Date.now() - t0)}: ${(e as Error).message}`);
      }
      if (!keep) cleanupMs += runner.done();
    }
  } finally {
    log('steps:');
    for (const t of runner.timings.filter((x) => x.ms >= 500 || x.reused)) {
      log(`  ${secs(t.ms).padStart(8)}  ${t.reused ? '(reused) ' : ''}${t.what}`);
    }
    if (keep) log(`kept ${work}`);
    else {
      const t0 = Date.now();
      spawnSync('rm', ['-rf', work], { stdio: 'inherit' });
      log(`removed the work folders in ${secs(cleanupMs + Date.now() - t0)}`);
    }
  }
  log(`total ${secs(Date.now() - started)}`);
  if (problems.length) {
    for (const p of problems) log(`PROBLEM ${p}`);
    process.exit(1);
  }
  log(`all ${targets.length} images' steps passed`);
}

if (require.main === module) main();
