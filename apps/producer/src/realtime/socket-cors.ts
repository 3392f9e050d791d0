import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Which browser origins may open the socket: the configured CORS origins, the API's own public origin (the
 * dashboard it serves), and any page served from the host the socket is reached on (same origin).
 */
export class SocketOrigins {
  private readonly allowed: ReadonlySet<string>;

  constructor(corsOrigins: readonly string[], publicBaseUrl: string) {
    this.allowed = new Set([...corsOrigins, new URL(publicBaseUrl).origin]);
  }

  /** A request without an Origin header is not a browser's cross-origin request (CLIs, servers): allowed. */
  allows(origin: string | undefined, host: string | undefined): boolean {
    if (!origin) return true;
    if (this.allowed.has(origin)) return true;
    try {
      return host !== undefined && new URL(origin).host === host;
    } catch {
      return false;
    }
  }

  /**
   * CORS for the socket's HTTP long-polling transport, as an engine.io middleware (what socket.io's own `cors`
   * option installs; the gateway's decorator options are static, so the configured list is applied here).
   * WebSocket upgrades are not subject to CORS; the gateway checks their Origin itself.
   */
  middleware(): (req: IncomingMessage, res: ServerResponse, next: (err?: Error) => void) => void {
    return (req, res, next) => {
      const origin = req.headers.origin;
      if (origin && this.allows(origin, req.headers.host)) {
        res.setHeader('Access-Control-Allow-Origin', origin);
        res.setHeader('Access-Control-Allow-Credentials', 'true');
        res.setHeader('Vary', 'Origin');
        if (req.method === 'OPTIONS') {
          res.setHeader('Access-Control-Allow-Methods', 'GET, POST');
          res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type');
          res.setHeader('Access-Control-Max-Age', '600');
          res.statusCode = 204;
          res.setHeader('Content-Length', '0');
          res.end();
          return;
        }
      }
      next();
    };
  }
}
