import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** the monorepo root: the nearest folder above this file with a package.json (sources and bundles alike) */
function repoRoot(): string {
  for (let dir = path.resolve(__dirname, '../../..'); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return process.cwd();
  }
}

/**
 * Local-only secrets for `npm start`, `npm run start:emulator` and the stack's mail server: generated once into .stack/dev-secrets.env (mode 0600, git-ignored)
 * so a fresh machine runs with no setup, and reused so encrypted tokens stay readable across restarts.
 * Values set in the environment always win. Production sets its own.
 */
export function loadDevSecrets(): Record<string, string> {
  const FILE = devSecretsFile();
  const generated: Record<string, string> = {
    JWT_SECRET: randomBytes(48).toString('base64url'),
    TOKEN_ENCRYPTION_KEYS: `dev1:${randomBytes(32).toString('base64')}`,
    EMULATOR_DEMO_CLIENT_SECRET: randomBytes(24).toString('base64url'),
    // the local mail server's one password for every mailbox (libs/stack's mail server, Dovecot and Postfix)
    DEV_MAIL_PASSWORD: randomBytes(18).toString('base64url'),
  };
  const stored = storedDevSecrets();
  const merged = { ...generated, ...stored };
  if (Object.keys(merged).some((k) => !(k in stored))) {
    mkdirSync(path.dirname(FILE), { recursive: true });
    writeFileSync(
      FILE,
      Object.entries(merged)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n') + '\n',
      { mode: 0o600 },
    );
  }
  for (const k of Object.keys(merged)) {
    const fromEnv = process.env[k];
    if (fromEnv) merged[k] = fromEnv;
  }
  return merged;
}

function devSecretsFile(): string {
  return path.join(repoRoot(), '.stack', 'dev-secrets.env');
}

/**
 * The local secrets `npm start` generated on this machine, if any (read only, nothing generated): production
 * refuses to run with one of them (production.ts).
 */
export function storedDevSecrets(): Record<string, string> {
  const stored: Record<string, string> = {};
  const file = devSecretsFile();
  if (existsSync(file)) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const i = line.indexOf('=');
      if (i > 0) stored[line.slice(0, i)] = line.slice(i + 1);
    }
  }
  return stored;
}
