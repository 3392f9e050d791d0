import { spawn } from 'node:child_process';

/** Every probe a prober sent, in order: when it started (epoch ms), how long its answer took (ms), its status. */
export interface Probes {
  starts: number[];
  latencies: number[];
  /** the HTTP status, or 0 for a transport error or a probe that took over 15 s */
  statuses: number[];
}

export interface LatencyProber {
  /** resolves once the prober's first three warm-up requests are answered and probing has begun */
  ready: Promise<void>;
  /** ends the probing and resolves with every probe sent */
  stop: () => Promise<Probes>;
}

// plain JavaScript for `node -e`: probe, pause, probe again, until stdin closes (the parent's stop, or its exit)
const SCRIPT = `
const [url, pauseMs] = process.argv.slice(1);
const starts = [], latencies = [], statuses = [];
let running = true;
process.stdin.on('end', () => (running = false));
process.stdin.resume();
(async () => {
  for (let i = 0; i < 3; i += 1) await (await fetch(url)).text();
  process.stdout.write('ready;');
  while (running) {
    const t0 = performance.now();
    starts.push(Date.now());
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(15000) });
      await res.text();
      statuses.push(res.status);
    } catch {
      statuses.push(0);
    }
    latencies.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, Number(pauseMs)));
  }
  process.stdout.write(JSON.stringify({ starts, latencies, statuses }));
})();
`;

/**
 * GETs `url` from a process of its own, one request `pauseMs` after the last one's answer, until `stop`. A probe
 * sent from the test's own process would also time that process: a Jest worker busy sending a load (or collecting
 * its garbage) answers its own timers late, so its probes read slow while the server was not (a worker blocked for
 * 250 ms every 300 ms read 273 ms against a producer whose event loop never lagged over 32 ms).
 */
export function startLatencyProber(url: string, opts: { pauseMs: number }): LatencyProber {
  const child = spawn(process.execPath, ['-e', SCRIPT, url, String(opts.pauseMs)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
    if (out.startsWith('ready;')) onReady();
  });
  // 'close', not 'exit': the probes' JSON (tens of kB) may still be in the pipe when the process exits
  const done = new Promise<Probes>((resolve, reject) =>
    child.on('close', (code) => {
      if (code !== 0 || !out.startsWith('ready;')) reject(new Error(`the prober exited ${code}: ${out}`));
      else resolve(JSON.parse(out.slice('ready;'.length)) as Probes);
    }),
  );
  return {
    // a prober that exits before it is ready fails `ready` too, rather than leave it waiting
    ready: Promise.race([ready, done.then(() => undefined)]),
    stop: () => {
      child.stdin.end();
      return done;
    },
  };
}
