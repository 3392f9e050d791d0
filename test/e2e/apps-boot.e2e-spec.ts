import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  currentTestRun,
  freePort,
  spawnApp,
  testRunEnv,
  waitFor,
  type SpawnedApp,
} from '@email-core/testing';
import { defaultCertDir } from '@email-core/certs';

/** A TCP server that accepts connections and never answers: the worst case for a health check. */
function blackhole(): Promise<{ port: number; close: () => void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () => {
          for (const s of sockets) s.destroy();
          server.close();
        },
      });
    }),
  );
}

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10000) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const run = currentTestRun();
const secrets = () => ({
  MS_CLIENT_ID: 'email-core-test',
  MS_CLIENT_SECRET: randomBytes(16).toString('hex'),
  JWT_SECRET: randomBytes(32).toString('hex'),
  TOKEN_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`,
  EMULATOR_DEMO_CLIENT_SECRET: randomBytes(16).toString('hex'),
});

describe('apps boot, validate their configuration and report their dependencies', () => {
  const started: SpawnedApp[] = [];
  const start = (...args: Parameters<typeof spawnApp>) => {
    const app = spawnApp(...args);
    started.push(app);
    return app;
  };
  afterEach(async () => {
    await Promise.all(started.splice(0).map((a) => a.stop()));
  });

  describe.each([
    ['producer', 'JWT_SECRET', 'PRODUCER_PORT'],
    ['consumer', 'TOKEN_ENCRYPTION_KEYS', 'CONSUMER_PORT'],
    ['outlook-emulator', 'EMULATOR_DEMO_CLIENT_SECRET', 'EMULATOR_PORT'],
  ] as const)('%s', (name, requiredVar, portVar) => {
    it(`refuses to start without ${requiredVar}, naming it`, async () => {
      const env: Record<string, string> = { ...testRunEnv(run), ...secrets() };
      delete env[requiredVar];
      const app = start(name, env);
      expect(await app.exited).toBe(78);
      expect(app.output()).toMatch(new RegExp(`${requiredVar}: required`));
    });

    it(`refuses a malformed ${portVar}, naming it`, async () => {
      const app = start(name, { ...testRunEnv(run), ...secrets(), [portVar]: 'not-a-port' });
      expect(await app.exited).toBe(78);
      expect(app.output()).toMatch(new RegExp(`${portVar}: must be a TCP port`));
    });
  });

  it('producer refuses a malformed DATABASE_URL and KAFKA_BROKERS, naming both and leaking no secret', async () => {
    const env = {
      ...testRunEnv(run),
      ...secrets(),
      DATABASE_URL: 'not a url',
      KAFKA_BROKERS: 'kafka-without-port',
    };
    const app = start('producer', env);
    expect(await app.exited).toBe(78);
    expect(app.output()).toMatch(/DATABASE_URL: must be a postgres:\/\/ URL/);
    expect(app.output()).toMatch(/KAFKA_BROKERS: every entry must look like host:port/);
    expect(app.output()).not.toContain(env.JWT_SECRET);
  });

  it.each([
    ['producer', 'PRODUCER_PORT'],
    ['consumer', 'CONSUMER_PORT'],
  ] as const)('%s reports Postgres, Kafka and Redis healthy on the real stack', async (name, portVar) => {
    const port = await freePort();
    start(name, { ...testRunEnv(run), ...secrets(), [portVar]: String(port) });
    const health = await waitFor(
      async () => {
        const r = await getJson(`http://127.0.0.1:${port}/health`);
        return r.status === 200 ? r : undefined;
      },
      { timeoutMs: 45000, intervalMs: 500, what: `${name} /health to be 200` },
    );
    expect(health.body.status).toBe('ok');
    const details = health.body.details as Record<string, Record<string, unknown>>;
    expect(details.postgres.status).toBe('up');
    expect(details.kafka).toMatchObject({ status: 'up', brokers: 1 });
    expect(details.redis).toMatchObject({ status: 'up', masters: 3, slotsOk: 16384 });
  });

  it('outlook-emulator boots and answers its health check over HTTPS from its local CA', async () => {
    // npm test (scripts/run-jest.ts) trusts the emulator's CA in every test process through NODE_EXTRA_CA_CERTS,
    // so Node's fetch verifies the emulator's certificate like any other server's.
    const certDir = defaultCertDir();
    const read = (file: string | undefined) =>
      file && fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    const ca = read(path.join(certDir, 'ca.pem')).trim();
    if (!ca || !read(process.env.NODE_EXTRA_CA_CERTS).includes(ca)) {
      throw new Error("NODE_EXTRA_CA_CERTS does not hold the emulator's CA: run the tests with npm test");
    }
    const port = await freePort();
    const app = start('outlook-emulator', {
      ...secrets(),
      EMULATOR_PORT: String(port),
      EMULATOR_CERT_DIR: certDir,
    });
    const health = await waitFor(
      async () => {
        const r = await getJson(`https://localhost:${port}/_emulator/health`);
        return r.status === 200 ? r : undefined;
      },
      { timeoutMs: 30000, intervalMs: 500, what: 'emulator health' },
    );
    expect(health.body.status).toBe('ok');
    expect(app.output()).toContain(
      `emulator listening on https://localhost:${port} (CA: ${path.join(certDir, 'ca.pem')})`,
    );
  });

  it('with Kafka and Postgres unreachable (a silent peer), /health names them within a few seconds', async () => {
    const hole = await blackhole();
    try {
      const port = await freePort();
      const app = start('producer', {
        ...testRunEnv(run),
        ...secrets(),
        PRODUCER_PORT: String(port),
        DATABASE_URL: `postgres://postgres@127.0.0.1:${hole.port}/email_core_test_unreachable`,
        KAFKA_BROKERS: `127.0.0.1:${hole.port}`,
      });
      await waitFor(
        async () => ((await fetch(`http://127.0.0.1:${port}/health/live`)).ok ? true : undefined),
        { timeoutMs: 30000, intervalMs: 300, what: 'producer liveness' },
      );
      const t0 = Date.now();
      const health = await getJson(`http://127.0.0.1:${port}/health`);
      const elapsed = Date.now() - t0;
      expect(health.status).toBe(503);
      const errors = health.body.error as Record<string, { status: string; message: string }>;
      expect(Object.keys(errors).sort()).toEqual(['kafka', 'postgres']);
      expect((health.body.info as Record<string, unknown>).redis).toMatchObject({ status: 'up' });
      expect(elapsed).toBeLessThan(5000);
      expect(app.child.exitCode).toBeNull();
    } finally {
      hole.close();
    }
  });

  it('with Kafka and Postgres refusing connections, /health names them at once', async () => {
    const closed = await freePort();
    const port = await freePort();
    start('producer', {
      ...testRunEnv(run),
      ...secrets(),
      PRODUCER_PORT: String(port),
      DATABASE_URL: `postgres://postgres@127.0.0.1:${closed}/email_core_test_unreachable`,
      KAFKA_BROKERS: `127.0.0.1:${closed}`,
    });
    await waitFor(async () => ((await fetch(`http://127.0.0.1:${port}/health/live`)).ok ? true : undefined), {
      timeoutMs: 30000,
      intervalMs: 300,
      what: 'producer liveness',
    });
    const t0 = Date.now();
    const health = await getJson(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(503);
    expect(Object.keys(health.body.error as object).sort()).toEqual(['kafka', 'postgres']);
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});
