import { spawnSync } from 'node:child_process';

/** `promtool check metrics` (Debian's prometheus package) on an exposition text: its exit status and its output */
export function promtoolCheckMetrics(text: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
  if (r.error) {
    throw new Error(
      `promtool not runnable (${r.error.message}): install Debian's prometheus package (apt-get install prometheus)`,
    );
  }
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}
