import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { openLoop, quantile } from './open-loop';

/** a real server on loopback: answers `status` after `delayMs`, noting when each request arrived */
async function server(status: number, delayMs: number) {
  const arrivals: number[] = [];
  const s = http.createServer((req, res) => {
    arrivals.push(performance.now());
    req
      .on('data', () => undefined)
      .on('end', () => {
        setTimeout(() => {
          res.statusCode = status;
          res.end();
        }, delayMs);
      });
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    arrivals,
    close: () => new Promise<void>((resolve) => s.close(() => resolve())),
  };
}

/** `check` against a fresh server (see `server`), closed after */
async function withServer(
  status: number,
  delayMs: number,
  check: (s: Awaited<ReturnType<typeof server>>) => Promise<void>,
): Promise<void> {
  const s = await server(status, delayMs);
  try {
    await check(s);
  } finally {
    await s.close();
  }
}

describe('openLoop', () => {
  it('sends the requests evenly over the run, not in bursts', () =>
    withServer(202, 0, async (s) => {
      const r = await openLoop({ url: s.url, body: '{}', rate: 200, seconds: 1, connections: 50 });
      expect(r).toMatchObject({ requests: 200, status202: 200, non2xx: 0, errors: 0, timeouts: 0 });
      expect(s.arrivals).toHaveLength(200);
      const first = s.arrivals[0];
      expect(s.arrivals[199] - first).toBeGreaterThan(900);
      // 20 are due in every 100 ms; a once-a-second burst would put all 200 in the first
      const perWindow = new Map<number, number>();
      for (const t of s.arrivals) {
        const w = Math.floor((t - first) / 100);
        perWindow.set(w, (perWindow.get(w) ?? 0) + 1);
      }
      expect(Math.max(...perWindow.values())).toBeLessThanOrEqual(40);
    }));

  it('counts a request that waited for a busy connection from when it was due', () =>
    // one connection, 50 ms per answer, one request due every 20 ms: the queue grows by 30 ms a request
    withServer(202, 50, async (s) => {
      const r = await openLoop({ url: s.url, body: '{}', rate: 50, seconds: 0.5, connections: 1 });
      expect(r.requests).toBe(25);
      expect(r.status202).toBe(25);
      // the last is due at 480 ms and answered at about 25 x 50 = 1,250 ms: ~770 ms late, not 50
      expect(r.latencyMaxMs).toBeGreaterThan(600);
      expect(r.latencyP50Ms).toBeGreaterThan(200);
    }));

  it('reports answers outside 2xx', () =>
    withServer(503, 0, async (s) => {
      const r = await openLoop({ url: s.url, body: '{}', rate: 20, seconds: 0.5, connections: 2 });
      expect(r).toMatchObject({ requests: 10, status202: 0, non2xx: 10 });
    }));
});

describe('quantile', () => {
  it('takes the nearest rank', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(xs, 0.5)).toBe(50);
    expect(quantile(xs, 0.99)).toBe(99);
    expect(quantile(xs, 1)).toBe(100);
    expect(quantile([7], 0.99)).toBe(7);
    expect(quantile([], 0.5)).toBe(0);
  });
});
