import net from 'node:net';
import {
  devMailServer,
  freePort,
  requestCodesThroughOutage,
  startProduct,
  systemMailEnv,
  watchSystemMailFailures,
  type DevMailServer,
  type RunningProduct,
  type SystemMailFailures,
} from '@email-core/testing';

/**
 * A TCP forwarder in front of the mail server's submission port that the test takes down and brings back: to the
 * mailer, the same as Postfix stopped and started (connections refused), without stopping the mail server other
 * tests share.
 */
class Outage {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  async up(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  async down(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe('system mail while the SMTP server is down (real stack and mail server)', () => {
  let mail: DevMailServer;
  let outage: Outage;
  let product: RunningProduct;
  let failures: SystemMailFailures | undefined;

  beforeAll(async () => {
    const server = devMailServer();
    if (!server) throw new Error('no dev mail server: run `npm run stack:up`');
    mail = server;
    outage = new Outage(await freePort(), server.submission);
    const smtp = systemMailEnv({ ...server, submission: { host: '127.0.0.1', port: outage.port } });
    product = await startProduct({
      isolated: true,
      appEnv: {
        ...smtp,
        SIGN_IN_CODE_REQUESTS_PER_IP: '1000',
        // a budget of about 25 s before a dead letter: the outage below lasts 8 s
        KAFKA_RETRY_BACKOFF_MS: '1000,2000,4000,6000',
        KAFKA_RETRY_MAX_ATTEMPTS: '7',
      },
    });
    failures = await watchSystemMailFailures('system-mail-outage-e2e', product);
  }, 240_000);

  afterAll(async () => {
    await failures?.stop();
    await product?.stop();
    await outage?.down();
  });

  it('every code requested during the outage arrives once the server is back, with one Message-ID each; none dead-lettered', async () => {
    const outcome = await requestCodesThroughOutage({
      api: product.api,
      mail,
      failures: failures!,
      down: () => outage.down(),
      up: () => outage.up(),
    });
    // a duplicate is acceptable only with the same Message-ID
    for (const one of outcome.perAddress) {
      expect(one.messageIds).toBe(1);
      expect(one.code).toMatch(/^\d{6}$/);
    }
    expect(outcome.distinctMessageIds).toBe(outcome.perAddress.length);
    // the sends really failed and were retried; none went to the dead-letter topic; no code or password in them
    expect(outcome.failed).toBeGreaterThanOrEqual(outcome.perAddress.length);
    expect(outcome.deadLettered).toBe(0);
    expect(outcome.leaks).toBe(0);
  }, 180_000);
});
