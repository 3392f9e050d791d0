import type { Request } from 'express';

/**
 * `https://host:port` as the client addressed the emulator (its Host header), so links and metadata name the
 * host the client can reach: `localhost:8443` in tests, `graph.microsoft.com` behind a hosts-file entry.
 */
export function originOf(req: Request): string {
  const host = req.headers.host ?? `localhost:${req.socket.localPort ?? 443}`;
  return `https://${host}`;
}
