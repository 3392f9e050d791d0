import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '..');

describe('the dashboard API types', () => {
  // In a child process: openapi-typescript loads ESM-only modules that jest's CommonJS runtime cannot.
  it('match the current OpenAPI document (run `npm run api:types` after changing the API)', () => {
    const run = spawnSync(
      process.execPath,
      ['-r', '@swc-node/register', path.join('scripts', 'api-types.ts'), '--check'],
      { cwd: root, encoding: 'utf8', timeout: 50_000 },
    );
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('matches the OpenAPI document');
    expect(run.status).toBe(0);
  });
});
