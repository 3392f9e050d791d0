import net from 'node:net';
import { spawnApp, type SpawnedApp } from './spawn-app';
import { waitFor } from './wait-for';

export interface RunningEmulator {
  app: SpawnedApp;
  port: number;
  /** `https://localhost:<port>` */
  origin: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  /** JSON call to the admin API (`/_emulator/...`); throws on a non-2xx with the body in the message */
  admin<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  stop(): Promise<void>;
}

/**
 * Ports handed out below Linux's ephemeral range (32768-60999 by default), which outgoing connections draw from:
 * a port picked there could be taken by some client's socket before the app that was given it listens.
 */
const PORT_RANGE = { low: 20_000, high: 32_000 };

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const port = PORT_RANGE.low + Math.floor(Math.random() * (PORT_RANGE.high - PORT_RANGE.low));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port between ${PORT_RANGE.low} and ${PORT_RANGE.high} after 50 tries`);
}

/**
 * Starts the real emulator process (`apps/outlook-emulator/src/main.ts`) on a free port, trusted through the
 * NODE_EXTRA_CA_CERTS that `npm test` sets, and waits until it answers.
 */
export async function startEmulator(env: Record<string, string> = {}): Promise<RunningEmulator> {
  const port = await freePort();
  const clientId = env.EMULATOR_DEMO_CLIENT_ID ?? 'email-core-test';
  const clientSecret = env.EMULATOR_DEMO_CLIENT_SECRET ?? 'test-client-secret-0123456789';
  const redirectUri = env.EMULATOR_DEMO_REDIRECT_URIS?.split(',')[0] ?? 'http://localhost:3999/callback';
  const app = spawnApp('outlook-emulator', {
    EMULATOR_PORT: String(port),
    EMULATOR_DEMO_CLIENT_ID: clientId,
    EMULATOR_DEMO_CLIENT_SECRET: clientSecret,
    EMULATOR_DEMO_REDIRECT_URIS: redirectUri,
    LOG_LEVEL: 'warn',
    ...env,
  });
  const origin = `https://localhost:${port}`;
  try {
    await waitFor(
      async () => {
        if (app.child.exitCode !== null) throw new Error(`emulator exited: ${app.output()}`);
        const res = await fetch(`${origin}/_emulator/health`, { signal: AbortSignal.timeout(2000) });
        return res.ok ? true : undefined;
      },
      { timeoutMs: 30000, what: `the emulator on ${origin}` },
    );
  } catch (err) {
    await app.stop();
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n${app.output()}`);
  }
  const admin = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${origin}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} -> ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  return { app, port, origin, clientId, clientSecret, redirectUri, admin, stop: () => app.stop() };
}
