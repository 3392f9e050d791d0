import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { composeProblems, Runner, runEnv, TARGETS } from './docker-steps';
import type { Target } from './docker-steps';
import {
  copyTarget,
  dockerignore,
  logicalLines,
  parseCommand,
  parseCopy,
  parseDockerfile,
  parseEnv,
  stageByRef,
  substitute,
} from './dockerfile';

const root = path.resolve(__dirname, '..');

describe('Dockerfile reading for npm run docker:check', () => {
  it('joins continued lines, drops comments (also inside a continuation) and blank lines, keeps first line numbers', () => {
    const text = [
      '# top',
      'FROM node:20 AS build',
      '',
      'RUN a \\',
      '  # inside',
      '  && b \\',
      '  && c',
      'CMD ["x"]',
    ].join('\n');
    expect(logicalLines(text)).toEqual([
      { text: 'FROM node:20 AS build', line: 2 },
      { text: 'RUN a && b && c', line: 4 },
      { text: 'CMD ["x"]', line: 8 },
    ]);
  });

  it('splits stages (named or not) and keeps global ARGs apart', () => {
    const file = parseDockerfile(
      [
        'ARG BASE=node:20',
        'FROM node:20-bookworm-slim AS build',
        'ARG APP',
        'WORKDIR /src',
        'FROM nginx:1.27',
      ].join('\n'),
    );
    expect(file.globalArgs).toEqual({ BASE: 'node:20' });
    expect(file.stages.map((s) => [s.index, s.base, s.name])).toEqual([
      [0, 'node:20-bookworm-slim', 'build'],
      [1, 'nginx:1.27', undefined],
    ]);
    expect(file.stages[0].instructions.map((i) => [i.keyword, i.args, i.line])).toEqual([
      ['ARG', 'APP', 3],
      ['WORKDIR', '/src', 4],
    ]);
    expect(stageByRef(file, 'build')).toBe(file.stages[0]);
    expect(stageByRef(file, '1')).toBe(file.stages[1]);
    expect(() => stageByRef(file, 'node:20')).toThrow(/no such stage/);
    expect(() => parseDockerfile('RUN x')).toThrow(/before the first FROM/);
  });

  it('substitutes ${VAR}, $VAR and ${VAR:-default}; unset is empty', () => {
    expect(substitute('/src/dist/apps/${APP}', { APP: 'consumer' })).toBe('/src/dist/apps/consumer');
    expect(substitute('$A-$B-${C:-c}', { A: 'a' })).toBe('a--c');
  });

  it('reads ENV in both forms, substituting earlier values', () => {
    expect(parseEnv('NODE_ENV=production APP=${APP} X="a b"', { APP: 'producer' })).toEqual({
      NODE_ENV: 'production',
      APP: 'producer',
      X: 'a b',
    });
    expect(parseEnv('GREETING hello world', {})).toEqual({ GREETING: 'hello world' });
  });

  it('reads COPY with --from, several sources, the JSON form; refuses wildcards and unknown flags', () => {
    expect(parseCopy('package.json package-lock.json ./', {})).toEqual({
      from: undefined,
      sources: ['package.json', 'package-lock.json'],
      dest: './',
    });
    expect(parseCopy('--from=build /src/dist/apps/${APP} ./dist', { APP: 'producer' })).toEqual({
      from: 'build',
      sources: ['/src/dist/apps/producer'],
      dest: './dist',
    });
    expect(parseCopy('["a b", "c/"]', {})).toEqual({
      from: undefined,
      sources: ['a b'],
      dest: 'c/',
    });
    expect(() => parseCopy('*.json ./', {})).toThrow(/wildcards/);
    expect(() => parseCopy('--parents a b', {})).toThrow(/not supported/);
  });

  it("places COPY sources as Docker does: a folder's contents into dest, a file into dest/ or as dest", () => {
    expect(copyTarget('apps/dashboard', true, 'apps/dashboard', '/src', false)).toBe('/src/apps/dashboard');
    expect(copyTarget('.', true, '.', '/src', false)).toBe('/src');
    expect(copyTarget('package.json', false, './', '/src', true)).toBe('/src/package.json');
    expect(copyTarget('scripts/npm-install-locked.sh', false, 'scripts/', '/app', false)).toBe(
      '/app/scripts/npm-install-locked.sh',
    );
    expect(copyTarget('a.txt', false, '/etc/b.txt', '/src', false)).toBe('/etc/b.txt');
  });

  it('reads CMD in the exec and the shell form', () => {
    expect(parseCommand('["node", "dist/main.js"]')).toEqual(['node', 'dist/main.js']);
    expect(parseCommand('node dist/main.js')).toEqual(['/bin/sh', '-c', 'node dist/main.js']);
  });

  it('applies .dockerignore: folders and what is under them, globs, ** and ! exceptions', () => {
    const ignored = dockerignore(
      [
        '# c',
        'node_modules',
        '/dist',
        'apps/dashboard/dist',
        '*.log',
        '**/*.tmp',
        'docs',
        '!docs/keep.md',
      ].join('\n'),
    );
    expect(ignored('node_modules')).toBe(true);
    expect(ignored('node_modules/x/index.js')).toBe(true);
    expect(ignored('dist/apps/producer/main.js')).toBe(true);
    expect(ignored('apps/dashboard/dist/index.html')).toBe(true);
    expect(ignored('apps/dashboard/src/main.tsx')).toBe(false);
    expect(ignored('npm.log')).toBe(true);
    expect(ignored('sub/npm.log')).toBe(false);
    expect(ignored('a/b/c.tmp')).toBe(true);
    expect(ignored('docs/other.md')).toBe(true);
    expect(ignored('package.json')).toBe(false);
  });
});

describe("this repository's Dockerfiles and compose files", () => {
  const read = (f: string) => parseDockerfile(fs.readFileSync(path.join(root, f), 'utf8'));
  const runs = (f: string) =>
    read(f).stages.flatMap((s) => s.instructions.filter((i) => i.keyword === 'RUN'));

  it('every image installs through scripts/npm-install-locked.sh (the one fallback), never npm ci directly', () => {
    for (const f of [...new Set(TARGETS.map((t) => t.dockerfile))]) {
      const installs = runs(f).filter((r) => /\bnpm (ci|install|i)\b|npm-install-locked/.test(r.args));
      expect(installs.length).toBeGreaterThan(0);
      for (const r of installs) {
        expect(r.args).toMatch(/^sh scripts\/npm-install-locked\.sh\b/);
        expect(r.args).not.toMatch(/\bnpm ci\b/);
      }
    }
    expect(fs.readFileSync(path.join(root, '.ci/run'), 'utf8')).toMatch(
      /^sh scripts\/npm-install-locked\.sh$/m,
    );
  });

  it("node-app's build stage installs before ARG APP, so the three app images (and the dashboard's) share it", () => {
    const [build] = read('docker/node-app.Dockerfile').stages;
    const at = (re: RegExp) => build.instructions.findIndex((i) => re.test(`${i.keyword} ${i.args}`));
    expect(at(/^RUN sh scripts\/npm-install-locked/)).toBeLessThan(at(/^ARG APP$/));
    const [dash] = read('docker/dashboard.Dockerfile').stages;
    const prefix = (s: typeof build) =>
      s.instructions
        .slice(0, s.instructions.findIndex((i) => i.keyword === 'RUN') + 1)
        .map((i) => `${i.keyword} ${i.args}`);
    expect(prefix(dash)).toEqual(prefix(build));
    expect(dash.base).toBe(build.base);
  });

  it('docker-compose files build Dockerfiles that exist', () => {
    expect(composeProblems(root, () => undefined)).toEqual([]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'compose-'));
    try {
      fs.writeFileSync(
        path.join(dir, 'docker-compose.x.yml'),
        'services:\n  a:\n    build:\n      context: .\n      dockerfile: docker/missing.Dockerfile\n    image: a\n',
      );
      expect(composeProblems(dir, () => undefined)).toEqual([
        'docker-compose.x.yml:3: docker/missing.Dockerfile does not exist',
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the environment RUN steps see (runEnv)', () => {
  it("drops npm-run leftovers and this checkout's node_modules/.bin, keeps the npm cache, puts the shim first", () => {
    const env = runEnv(
      {
        PATH: '/work/main/node_modules/.bin:/usr/lib/node_modules/npm/node_modules/@npmcli/run-script/lib/node-gyp-bin:/usr/bin',
        HOME: '/root',
        npm_config_local_prefix: '/work/main',
        npm_config_cache: '/root/.npm',
        npm_lifecycle_event: 'docker:check',
        INIT_CWD: '/work/main',
        NODE_ENV: 'test',
      },
      '/tmp/shim',
      false,
    );
    expect(env).toEqual({
      PATH: '/tmp/shim:/usr/bin',
      HOME: '/root',
      npm_config_cache: '/root/.npm',
      npm_config_prefer_offline: 'true',
    });
    expect(runEnv({ PATH: '/usr/bin' }, '/s', true).npm_config_prefer_offline).toBeUndefined();
  });
});

describe('Runner: Dockerfile steps played in clean folders (no npm: shell commands stand in for the installs)', () => {
  let dir: string;
  let context: string;
  let work: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'docker-steps-'));
    context = path.join(dir, 'context');
    work = path.join(dir, 'work');
    fs.mkdirSync(path.join(context, 'src'), { recursive: true });
    fs.mkdirSync(work);
    fs.writeFileSync(path.join(context, 'lock.txt'), 'locked\n');
    fs.writeFileSync(path.join(context, 'src', 'main.js'), 'require("left-pad");\n');
    fs.writeFileSync(path.join(context, '.dockerignore'), 'ignored\n');
    fs.mkdirSync(path.join(context, 'ignored'));
    fs.writeFileSync(path.join(context, 'ignored', 'x'), 'x');
    // "install": counts its runs in a file outside the image and makes node_modules/left-pad
    const install =
      `RUN echo run >> ${path.join(dir, 'installs.log')} && mkdir -p node_modules/left-pad ` +
      `&& echo 'module.exports = 1' > node_modules/left-pad/index.js`;
    const app = [
      'FROM node:20-bookworm-slim AS build',
      'WORKDIR /src',
      'COPY lock.txt ./',
      install,
      'COPY . .',
      'ARG APP',
      'RUN mkdir -p dist/$APP && cp src/main.js dist/$APP/main.js',
      'FROM node:20-bookworm-slim',
      'WORKDIR /app',
      'COPY lock.txt ./',
      `RUN echo omit-dev >> ${path.join(dir, 'installs.log')} && mkdir -p node_modules/left-pad ` +
        `&& echo 'module.exports = 1' > node_modules/left-pad/index.js`,
      'ARG APP',
      'COPY --from=build /src/dist/${APP} ./dist',
      'CMD ["node", "dist/main.js"]',
    ];
    fs.writeFileSync(path.join(context, 'app.Dockerfile'), app.join('\n'));
    const other = [
      'FROM node:20-bookworm-slim AS build',
      'WORKDIR /src',
      'COPY lock.txt ./',
      install,
      'COPY src src',
      'RUN test ! -e ignored && mkdir out && cp src/main.js out/',
      'FROM nginx:1.27-alpine',
      'COPY --from=build /src/out /usr/share/nginx/html',
    ];
    fs.writeFileSync(path.join(context, 'other.Dockerfile'), other.join('\n'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const env = () => runEnv(process.env, path.join(dir, 'no-shim'), true);
  const targets: Target[] = [
    { id: 'a', dockerfile: 'app.Dockerfile', buildArgs: { APP: 'a' }, expect: [] },
    { id: 'b', dockerfile: 'app.Dockerfile', buildArgs: { APP: 'b' }, expect: [] },
    { id: 'web', dockerfile: 'other.Dockerfile', buildArgs: {}, expect: ['/usr/share/nginx/html/main.js'] },
  ];

  it('runs a layer shared by several images once (ARG after it), builds each, and checks CMD and its requires', () => {
    const runner = new Runner(context, work, env(), () => undefined);
    runner.plan(targets);
    for (const t of targets) {
      const final = runner.build(t);
      expect(runner.check(t, final)).toEqual([]);
      runner.done();
    }
    // each install ran once (the final stage's RUN comes before its COPY --from builds the build stage)
    expect(fs.readFileSync(path.join(dir, 'installs.log'), 'utf8')).toBe('omit-dev\nrun\n');
    // reused: b's two installs, web's build install
    expect(runner.timings.filter((t) => t.reused).length).toBe(3);
  });

  it('reports what Docker would fail on or the image would miss', () => {
    const runner = new Runner(context, work, env(), () => undefined);
    const final = runner.build({
      id: 'c',
      dockerfile: 'app.Dockerfile',
      buildArgs: { APP: 'c' },
      expect: ['/nope'],
    });
    fs.rmSync(path.join(final.dir, 'app', 'node_modules'), { recursive: true, force: true });
    expect(runner.check({ id: 'c', dockerfile: '', buildArgs: {}, expect: ['/nope'] }, final)).toEqual([
      '/nope is missing',
      'dist/main.js requires left-pad, not installed in the image',
    ]);
    fs.writeFileSync(
      path.join(context, 'bad.Dockerfile'),
      'FROM node:20 AS build\nWORKDIR /src\nFROM node:20\nCOPY --from=build /src/dist ./dist\n',
    );
    expect(() =>
      runner.build({ id: 'bad', dockerfile: 'bad.Dockerfile', buildArgs: {}, expect: [] }),
    ).toThrow(/COPY --from=build \/src\/dist: not found in that stage/);
    fs.writeFileSync(path.join(context, 'ign.Dockerfile'), 'FROM node:20\nCOPY ignored/x ./\n');
    expect(() =>
      runner.build({ id: 'ign', dockerfile: 'ign.Dockerfile', buildArgs: {}, expect: [] }),
    ).toThrow(/not in the build context/);
  });
});

describe('scripts/npm-install-locked.sh (a stand-in npm on PATH)', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'npm-install-locked-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const run = (ciFails: boolean) => {
    fs.writeFileSync(
      path.join(dir, 'npm'),
      [
        '#!/bin/sh',
        `echo "$*" >> ${JSON.stringify(path.join(dir, 'calls.log'))}`,
        ciFails
          ? 'if [ "$1" = ci ]; then echo "npm error code EUSAGE" >&2; ' +
            'echo "npm error Missing: @swc/core-darwin-arm64@1.16.22 from lock file" >&2; exit 1; fi'
          : '',
        'exit 0',
      ].join('\n'),
      { mode: 0o755 },
    );
    const r = spawnSync('sh', [path.join(root, 'scripts/npm-install-locked.sh'), '--omit=dev'], {
      env: { PATH: `${dir}:/usr/bin:/bin` },
      encoding: 'utf8',
    });
    return {
      status: r.status,
      stderr: r.stderr,
      calls: fs.readFileSync(path.join(dir, 'calls.log'), 'utf8'),
    };
  };

  it('uses npm ci when it accepts the lock', () => {
    const r = run(false);
    expect(r.status).toBe(0);
    expect(r.calls).toBe('ci --no-audit --no-fund --omit=dev\n');
  });

  it('falls back to npm install (same arguments) when npm ci refuses the lock, and says why', () => {
    const r = run(true);
    expect(r.status).toBe(0);
    expect(r.calls).toBe('ci --no-audit --no-fund --omit=dev\ninstall --no-audit --no-fund --omit=dev\n');
    expect(r.stderr).toContain('Missing: @swc/core-darwin-arm64@1.16.22 from lock file');
    expect(r.stderr).toContain('installing the locked versions with npm install');
  });
});
