import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { Kafka, type Consumer } from 'kafkajs';
import { Topics, type FailedMessage } from '@email-core/contracts';
import {
  apiCall,
  codeInMail,
  currentTestRun,
  devMailServer,
  freePort,
  readMailbox,
  startProduct,
  systemMailEnv,
  waitFor,
  type DevMailServer,
  type RunningProduct,
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
  let kafka: Consumer | undefined;
  const failed: FailedMessage[] = [];
  const deadLettered: FailedMessage[] = [];

  beforeAll(async () => {
    const server = devMailServer();
    if (!server) throw new Error('no dev mail server: run `npm run stack:up`');
    mail = server;
    outage = new Outage(await freePort(), server.submission);
    const smtp = systemMailEnv({ ...server, submission: { host: '127.0.0.1', port: outage.port } });
    product = await startProduct({
      appEnv: {
        ...smtp,
        SIGN_IN_CODE_REQUESTS_PER_IP: '1000',
        // a budget of about 25 s before a dead letter: the outage below lasts 8 s
        KAFKA_RETRY_BACKOFF_MS: '1000,2000,4000,6000',
        KAFKA_RETRY_MAX_ATTEMPTS: '7',
      },
    });
    const run = currentTestRun();
    kafka = new Kafka({
      clientId: 'system-mail-outage-e2e',
      brokers: run.kafkaBrokers,
      logLevel: 0,
    }).consumer({
      groupId: `system-mail-outage-e2e-${Date.now()}`,
    });
    await kafka.connect();
    const retry = `${run.topicPrefix}${Topics.retry}`;
    await kafka.subscribe({ topics: [retry, `${run.topicPrefix}${Topics.deadLetter}`], fromBeginning: true });
    await kafka.run({
      eachMessage: ({ topic, message }) => {
        const value = JSON.parse(message.value?.toString('utf8') ?? '{}') as FailedMessage;
        if (value.topic?.endsWith(Topics.systemMail)) (topic === retry ? failed : deadLettered).push(value);
        return Promise.resolve();
      },
    });
  }, 240_000);

  afterAll(async () => {
    await kafka?.disconnect();
    await product?.stop();
    await outage?.down();
  });

  it('every code requested during the outage arrives once the server is back, with one Message-ID each; none dead-lettered', async () => {
    const addresses = Array.from(
      { length: 6 },
      () => `outage-${randomBytes(5).toString('hex')}@example.test`,
    );
    // down before the first request: every send fails until it comes back
    await outage.down();
    for (const email of addresses) {
      const res = await apiCall(product.api, 'POST', '/api/v1/auth/code/request', { body: { email } });
      expect(res.status).toBe(202);
    }
    await waitFor(() => Promise.resolve(failed.length >= addresses.length || undefined), {
      timeoutMs: 30_000,
      what: 'the failed sends in the retry topic',
    });
    await new Promise((r) => setTimeout(r, 8000));
    await outage.up();

    const received = await waitFor(
      async () => {
        const all = await Promise.all(addresses.map((a) => readMailbox(mail, a)));
        return all.every((m) => m.length >= 1) ? all : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500, what: 'every mail after the outage' },
    );
    for (const mails of received) {
      // a duplicate is acceptable only with the same Message-ID
      expect(new Set(mails.map((m) => m.messageId)).size).toBe(1);
      expect(codeInMail(mails[0])).toMatch(/^\d{6}$/);
    }
    const ids = received.map((mails) => mails[0].messageId);
    expect(new Set(ids).size).toBe(addresses.length);
    // the sends really failed, were retried, and none went to the dead-letter topic
    expect(failed.length).toBeGreaterThanOrEqual(addresses.length);
    expect(deadLettered).toEqual([]);
    // the SMTP credentials never reach a failure record
    for (const f of failed) expect(f.error).not.toContain(mail.password);
    // the codes the failed messages carried are sealed
    const codes = received.map((mails) => codeInMail(mails[0]));
    for (const f of failed)
      for (const code of codes) expect(f.value).not.toMatch(new RegExp(`(?<![0-9])${code}(?![0-9])`));
  }, 180_000);
});
