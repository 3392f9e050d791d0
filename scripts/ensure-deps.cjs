// `npm start` and `npm test` work on a fresh clone: install the locked dependencies first when
// node_modules is missing or older than package-lock.json. Plain CommonJS: it runs before anything is installed.
const { existsSync, statSync } = require('node:fs');
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const marker = path.join(root, 'node_modules', '.package-lock.json');
const lock = path.join(root, 'package-lock.json');
const stale = !existsSync(marker) || statSync(lock).mtimeMs > statSync(marker).mtimeMs + 1000;
if (stale) {
  process.stdout.write('[deps] installing locked dependencies (npm ci)\n');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  let r = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    // Some registries serve only some platforms' optional binaries, which makes `npm ci` reject the lock
    // as out of sync; `npm install` then installs the same locked versions (docs/development.md).
    process.stdout.write(
      '[deps] npm ci refused the lock file; installing the locked versions with npm install\n',
    );
    r = spawnSync(npm, ['install', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  }
  if (r.status !== 0) process.exit(r.status ?? 1);
}
