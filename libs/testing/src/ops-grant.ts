import { spawn } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '../../..');

export interface OpsGrantRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real `npm run ops:grant -- [--revoke] <email>` as its own process against `databaseUrl` (a product's
 * `databaseUrl`), as whoever runs a deployment would, and returns its exit code and output.
 */
export function runOpsGrant(
  databaseUrl: string,
  email: string,
  opts: { revoke?: boolean } = {},
): Promise<OpsGrantRun> {
  const args = ['run', '--silent', 'ops:grant', '--', ...(opts.revoke ? ['--revoke'] : []), email];
  return new Promise((resolve, reject) => {
    const child = spawn(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, {
      cwd: root,
      env: { ...process.env, DATABASE_URL: databaseUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `runOpsGrant`, throwing unless it succeeded: makes (or with `revoke`, unmakes) the user an operator. */
export async function grantOperator(
  databaseUrl: string,
  email: string,
  opts: { revoke?: boolean } = {},
): Promise<OpsGrantRun> {
  const run = await runOpsGrant(databaseUrl, email, opts);
  if (run.code !== 0) throw new Error(`ops:grant ${email} -> exit ${run.code}: ${run.stderr}${run.stdout}`);
  return run;
}
