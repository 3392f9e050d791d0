import { Client } from 'pg';

/** Connects and runs `SELECT 1` with hard timeouts, so a health check never hangs on an unreachable server. */
export async function probePostgres(url: string, timeoutMs: number): Promise<{ latencyMs: number }> {
  const started = Date.now();
  const client = new Client({
    connectionString: url,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    application_name: 'email-core-health',
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Postgres did not answer within ${timeoutMs} ms`)), timeoutMs);
    timer.unref();
  });
  try {
    await Promise.race([
      (async () => {
        await client.connect();
        await client.query('SELECT 1');
      })(),
      timeout,
    ]);
    return { latencyMs: Date.now() - started };
  } finally {
    clearTimeout(timer);
    client.end().catch(() => undefined);
  }
}
