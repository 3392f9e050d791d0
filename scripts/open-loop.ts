import { Pool } from 'undici';

export interface OpenLoopOptions {
  /** the full URL requests go to (POST) */
  url: string;
  body: string;
  headers?: Record<string, string>;
  /** requests per second, sent evenly spaced: the i-th is due at start + i / rate */
  rate: number;
  seconds: number;
  /** keep-alive connections the requests share (a request due while all are busy waits for one, and that counts) */
  connections: number;
  /** a request unanswered after this long counts as a timeout */
  timeoutMs?: number;
}

export interface OpenLoopResult {
  /** requests sent (all of them: the run waits for every answer) */
  requests: number;
  /** answered requests per second of the run's schedule */
  requestsPerSecond: number;
  status202: number;
  /** answered with a status outside 2xx */
  non2xx: number;
  /** failed without an answer (connection errors) */
  errors: number;
  timeouts: number;
  /** from when each request was due to its whole answer, in ms: any wait for a connection included */
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
}

/** the q-quantile (0..1) of ascending `sorted`, nearest rank; 0 for none */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1];
}

/**
 * An open-loop load: `rate` requests a second, each sent when it is due whatever the earlier ones are doing, and
 * its latency counted from when it was due (so a late send, for a busy connection pool or a busy load generator,
 * is the server's latency too: no coordinated omission). This is how Graph delivers notifications: as changes
 * happen, on many connections. autocannon's `overallRate` is not that: each connection sends its share of a
 * second's requests back to back at the start of every second and then waits, so all connections burst together
 * once a second and the latencies it reports are a saturated burst's queue.
 */
export async function openLoop(opts: OpenLoopOptions): Promise<OpenLoopResult> {
  const target = new URL(opts.url);
  const pool = new Pool(target.origin, { connections: opts.connections, pipelining: 1 });
  const total = Math.max(1, Math.round(opts.rate * opts.seconds));
  const intervalMs = 1000 / opts.rate;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const latencies: number[] = [];
  const counts = { status202: 0, non2xx: 0, errors: 0, timeouts: 0 };
  const inFlight: Array<Promise<void>> = [];
  const send = async (dueAt: number): Promise<void> => {
    try {
      const res = await pool.request({
        path: target.pathname + target.search,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...opts.headers },
        body: opts.body,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      await res.body.dump();
      latencies.push(performance.now() - dueAt);
      if (res.statusCode === 202) counts.status202 += 1;
      else if (res.statusCode < 200 || res.statusCode >= 300) counts.non2xx += 1;
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      if (code.includes('TIMEOUT')) counts.timeouts += 1;
      else counts.errors += 1;
    }
  };
  const start = performance.now();
  try {
    for (let sent = 0; sent < total;) {
      const now = performance.now();
      // every request due by now goes now (a late tick sends the ones it missed at once, each timed from its due)
      while (sent < total && start + sent * intervalMs <= now) {
        inFlight.push(send(start + sent * intervalMs));
        sent += 1;
      }
      const nextDue = start + sent * intervalMs;
      await new Promise((r) => setTimeout(r, Math.max(0, Math.floor(nextDue - performance.now()))));
    }
    await Promise.all(inFlight);
  } finally {
    await pool.close();
  }
  latencies.sort((a, b) => a - b);
  const round = (ms: number) => Number(ms.toFixed(1));
  return {
    requests: total,
    requestsPerSecond: Math.round(latencies.length / opts.seconds),
    ...counts,
    latencyP50Ms: round(quantile(latencies, 0.5)),
    latencyP99Ms: round(quantile(latencies, 0.99)),
    latencyMaxMs: round(latencies.at(-1) ?? 0),
  };
}
