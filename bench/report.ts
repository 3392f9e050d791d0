import fs from 'node:fs';
import path from 'node:path';

/**
 * How every benchmark ends: the table on stdout, the same figures as JSON in `bench/results/<name>.json`, and a
 * final `ratio: <number>` line.
 */
export function report(name: string, rows: string[][], results: { ratio: number }): void {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  for (const r of rows)
    process.stdout.write(r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join(' | ') + '\n');
  const out = path.join(__dirname, 'results', `${name}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
  process.stdout.write(`written: ${path.relative(process.cwd(), out)}\n`);
  process.stdout.write(`ratio: ${results.ratio}\n`);
}
