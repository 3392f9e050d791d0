import * as path from 'node:path';
import { commandExists, run } from './process';
import { ROOT, rel, updateState } from './state';

/** `docker compose` (plugin) or `docker-compose` (standalone), whichever works. */
type Compose = { cmd: string; pre: string[] };
let detected: Promise<Compose | undefined> | undefined;

async function detect(): Promise<Compose | undefined> {
  if (process.env.STACK_NO_DOCKER === '1' || !commandExists('docker')) return undefined;
  const info = await run('docker', ['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 3000 });
  if (info.code !== 0 || info.stdout.trim() === '') return undefined;
  if ((await run('docker', ['compose', 'version'], { timeoutMs: 5000 })).code === 0)
    return { cmd: 'docker', pre: ['compose'] };
  if (commandExists('docker-compose')) return { cmd: 'docker-compose', pre: [] };
  return undefined;
}

/**
 * True when a Docker engine answers `docker info` within ~3 s and a compose command exists (cached per process).
 * Set STACK_NO_DOCKER=1 to skip Docker.
 */
export async function dockerAvailable(): Promise<boolean> {
  detected ??= detect();
  return (await detected) !== undefined;
}

export type ComposeFile =
  | 'docker-compose.pg.yml'
  | 'docker-compose.kafka.yml'
  | 'docker-compose.redis.yml'
  | 'docker-compose.mail.yml';

async function compose(full: string, args: string[], timeoutMs: number): Promise<void> {
  detected ??= detect();
  const c = (await detected) ?? { cmd: 'docker', pre: ['compose'] };
  const r = await run(c.cmd, [...c.pre, '-f', full, ...args], { timeoutMs, cwd: ROOT });
  if (r.code !== 0) {
    throw new Error(
      `${c.cmd} ${[...c.pre, '-f', rel(full), ...args].join(' ')} failed:\n${(r.stderr || r.stdout).trim()}`,
    );
  }
}

/** `docker compose -f FILE up -d`, recorded in the state first so `down` can undo even a partial start. */
export async function composeUp(file: ComposeFile): Promise<void> {
  const full = path.join(ROOT, file);
  updateState((s) => {
    const files = new Set(s.dockerComposeFiles ?? []);
    files.add(full);
    s.dockerComposeFiles = [...files];
  });
  await compose(full, ['up', '-d'], 10 * 60_000);
}

export async function composeDown(full: string): Promise<string> {
  await compose(full, ['down'], 2 * 60_000);
  return `docker compose -f ${rel(full)} down`;
}
