import http from 'node:http';

export interface RoundRobinProxy {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** requests forwarded to each target, in target order */
  forwarded: number[];
  close(): Promise<void>;
}

/**
 * A minimal HTTP load balancer on loopback: each request goes to the next target in turn (a target that refuses
 * the connection is skipped for that request). It stands for the load balancer in front of several API instances,
 * so Graph's notification POSTs reach every producer, as they would in production.
 */
export async function startRoundRobinProxy(targets: () => string[]): Promise<RoundRobinProxy> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const forwarded: number[] = [];
  let next = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const list = targets();
      const attempt = (tries: number): void => {
        const i = next++ % list.length;
        const target = new URL(req.url ?? '/', list[i]);
        const out = http.request(
          target,
          { method: req.method, headers: { ...req.headers, host: target.host }, agent },
          (up) => {
            forwarded[i] = (forwarded[i] ?? 0) + 1;
            res.writeHead(up.statusCode ?? 502, up.headers);
            up.pipe(res);
          },
        );
        out.on('error', () => {
          if (tries + 1 < list.length) attempt(tries + 1);
          else if (!res.headersSent) res.writeHead(502).end();
        });
        out.end(body);
      };
      attempt(0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    forwarded,
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
