import { randomBytes } from 'node:crypto';
import {
  currentTestRun,
  freePort,
  spawnApp,
  testRunEnv,
  waitForHealthy,
  type SpawnedApp,
} from '@email-core/testing';

const run = currentTestRun();
const secrets = () => ({
  MS_CLIENT_ID: 'email-core-test',
  MS_CLIENT_SECRET: randomBytes(16).toString('hex'),
  JWT_SECRET: randomBytes(32).toString('hex'),
  TOKEN_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
});

const CONCURRENT = 300;

/**
 * Issue 16, defect 6: `/health` opened a fresh Postgres connection and a fresh Kafka admin connection on every
 * call, so 300 concurrent probes (a load balancer's nodes, a busy orchestrator) reported a healthy stack down
 * (227 of 300 measured) and a load balancer would have dropped healthy instances. Now the probes go through the
 * app's pooled clients and one result is shared per second; `/health/live` does no I/O at all.
 */
describe('health probes under load (real apps, real stack)', () => {
  let app: SpawnedApp | undefined;
  afterEach(async () => {
    await app?.stop();
    app = undefined;
  });

  it.each([
    ['producer', 'PRODUCER_PORT'],
    ['consumer', 'CONSUMER_PORT'],
  ] as const)(
    '%s answers 300 concurrent /health calls on a healthy stack, all 200, and /health/live alongside',
    async (name, portVar) => {
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const spawned = spawnApp(name, { ...testRunEnv(run), ...secrets(), [portVar]: String(port) });
      app = spawned;
      await waitForHealthy(() => spawned, `${base}/health`, 90_000);

      for (let round = 0; round < 2; round++) {
        const t0 = performance.now();
        const answers = await Promise.all(
          Array.from({ length: CONCURRENT }, (_, i) =>
            fetch(`${base}/health${i % 10 === 9 ? '/live' : ''}`, {
              signal: AbortSignal.timeout(20_000),
            }).then(
              async (r) => ({ status: r.status, body: (await r.json()) as { status?: string } }),
              (err: unknown) => ({ status: 0, body: { status: String(err) } }),
            ),
          ),
        );
        const elapsed = performance.now() - t0;
        const statuses: Record<string, number> = {};
        for (const a of answers) statuses[a.status] = (statuses[a.status] ?? 0) + 1;
        process.stdout.write(
          `[health] ${name} round ${round + 1}: ${CONCURRENT} concurrent calls in ` +
            `${elapsed.toFixed(0)} ms, statuses ${JSON.stringify(statuses)}\n`,
        );
        // before: 63 of 300 were 503 (producer), and 300 took 10 s (consumer: 300 connections opened and closed)
        expect(statuses).toEqual({ 200: CONCURRENT });
        expect(elapsed).toBeLessThan(5000);
        expect(answers.every((a) => a.body.status === 'ok')).toBe(true);
        // the second round starts once the first round's cached result has expired
        await new Promise((r) => setTimeout(r, 1100));
      }
    },
    180_000,
  );
});
