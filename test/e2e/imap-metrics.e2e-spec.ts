import { randomBytes } from 'node:crypto';
import { parseExposition, sumOf, type Sample } from '@email-core/metrics';
import {
  apiCall,
  devImapLinkBody,
  devMailServer,
  linkDevImap,
  signUp,
  startProduct,
  waitFor,
  waitForAccountStatus,
  type DevMailServer,
  type RunningProduct,
  promtoolCheckMetrics,
} from '@email-core/testing';

const TOKEN = randomBytes(24).toString('hex');
const REQUESTS = 'email_core_provider_requests_total';

interface Apps {
  producer: Sample[];
  consumer: Sample[];
}

/**
 * Issue 22 (metrics), IMAP and SMTP: `email_core_provider_requests_total{provider="imap"|"smtp"}` counts the IMAP
 * adapter's requests against the stack's real Dovecot and Postfix. A link with a wrong password moves the
 * producer's imap `auth_failed` by exactly one (its login probe); linking, syncing and the IDLE watcher move imap
 * `ok`; sending one mail through the API moves smtp `ok` by exactly one; both expositions pass promtool.
 */
describe('provider requests of IMAP and SMTP (real stack and mail server)', () => {
  let mail: DevMailServer;
  let product: RunningProduct;
  let consumer: string;
  let token: string;
  const address = `imap-metrics-${randomBytes(5).toString('hex')}@example.test`;
  const texts: Record<keyof Apps, string> = { producer: '', consumer: '' };

  async function scrapeText(base: string): Promise<string> {
    const res = await fetch(`${base}/metrics`, {
      headers: { authorization: `Bearer ${TOKEN}` },
      signal: AbortSignal.timeout(10_000),
    });
    expect(res.status).toBe(200);
    return res.text();
  }

  async function scrape(): Promise<Apps> {
    texts.producer = await scrapeText(product.api);
    texts.consumer = await scrapeText(consumer);
    return { producer: parseExposition(texts.producer), consumer: parseExposition(texts.consumer) };
  }

  const count = (samples: Sample[], provider: string, status: string) =>
    sumOf(samples, REQUESTS, { provider, status });
  const both = (apps: Apps, provider: string, status: string) =>
    count(apps.producer, provider, status) + count(apps.consumer, provider, status);

  beforeAll(async () => {
    const server = devMailServer();
    if (!server)
      throw new Error(
        'no dev mail server: run `npm run stack:up` (MAIL_IMAP in .stack/endpoints.env, DEV_MAIL_PASSWORD)',
      );
    mail = server;
    product = await startProduct({ appEnv: { METRICS_TOKEN: TOKEN, LOG_LEVEL: 'warn' } });
    consumer = `http://127.0.0.1:${product.env.CONSUMER_PORT}`;
    ({ token } = await signUp(product.api));
  }, 120_000);

  afterAll(async () => {
    await product?.stop();
  });

  it('exports every imap and smtp series from the start, at a fixed set of statuses', async () => {
    const apps = await scrape();
    for (const samples of [apps.producer, apps.consumer]) {
      const statuses = (provider: string) =>
        samples
          .filter((s) => s.name === REQUESTS && s.labels.provider === provider)
          .map((s) => s.labels.status)
          .sort();
      expect(statuses('imap')).toEqual(['auth_failed', 'bad', 'error', 'no', 'ok', 'timeout']);
      expect(statuses('smtp')).toEqual(['4xx', '5xx', 'error', 'ok']);
    }
  });

  it('a wrong password moves imap auth_failed by one; linking, syncing and sending move imap ok and smtp ok by one', async () => {
    const before = await scrape();

    // a link with a wrong password: the producer's login probe is refused by Dovecot
    const refused = await apiCall<{ error?: string }>(product.api, 'POST', '/api/v1/accounts/imap', {
      token,
      body: devImapLinkBody(mail, address, `wrong-${randomBytes(6).toString('hex')}`),
    });
    expect(refused.status).toBe(422);
    expect(refused.body.error).toBe('IMAP_AUTH_FAILED');
    const afterRefusal = await scrape();
    expect(
      count(afterRefusal.producer, 'imap', 'auth_failed') - count(before.producer, 'imap', 'auth_failed'),
    ).toBe(1);

    // the real link, its initial sync (the consumer's IMAP sessions) and the IDLE watcher
    const accountId = await linkDevImap(product.api, token, mail, address);
    await waitForAccountStatus(product.api, token, 'synced', { accountId, timeoutMs: 60_000 });
    const synced = await scrape();
    // the producer's probe logged in once
    expect(
      count(synced.producer, 'imap', 'ok') - count(afterRefusal.producer, 'imap', 'ok'),
    ).toBeGreaterThanOrEqual(1);
    // the consumer's sync: a login and the folder list, SELECTs, SEARCH/FETCH at least
    expect(
      count(synced.consumer, 'imap', 'ok') - count(before.consumer, 'imap', 'ok'),
    ).toBeGreaterThanOrEqual(3);

    // one mail sent through the API: one nodemailer send to Postfix's submission port
    const subject = `metrics ${randomBytes(4).toString('hex')}`;
    const submitted = await apiCall<{ id: string; status: string }>(product.api, 'POST', '/api/v1/commands', {
      token,
      body: {
        accountId,
        action: 'send',
        subject,
        body: { contentType: 'text', content: 'counted once' },
        toRecipients: [{ address }],
      },
    });
    expect(submitted.status).toBe(202);
    const done = await waitFor(
      async () => {
        const res = await apiCall<{ status: string; error?: unknown }>(
          product.api,
          'GET',
          `/api/v1/commands/${submitted.body.id}`,
          { token },
        );
        return res.body.status === 'done' || res.body.status === 'failed' ? res.body : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'the send command to finish' },
    );
    expect(done.status).toBe('done');
    const sent = await scrape();
    expect(both(sent, 'smtp', 'ok') - both(before, 'smtp', 'ok')).toBe(1);
    for (const status of ['4xx', '5xx', 'error']) {
      expect(both(sent, 'smtp', status) - both(before, 'smtp', status)).toBe(0);
    }
    // filing the copy in Sent (APPEND) and the rest of the command's IMAP work
    expect(count(sent.consumer, 'imap', 'ok')).toBeGreaterThan(count(synced.consumer, 'imap', 'ok'));
    // nothing timed out, and only the wrong password was refused a login
    expect(both(sent, 'imap', 'timeout') - both(before, 'imap', 'timeout')).toBe(0);
    expect(both(sent, 'imap', 'auth_failed') - both(before, 'imap', 'auth_failed')).toBe(1);
    process.stdout.write(
      `imap-metrics: ${REQUESTS} moved by ` +
        JSON.stringify(
          Object.fromEntries(
            ['imap', 'smtp'].flatMap((provider) =>
              sent.producer
                .concat(sent.consumer)
                .filter((s) => s.name === REQUESTS && s.labels.provider === provider)
                .map((s) => `${provider}/${s.labels.status}`)
                .filter((k, i, all) => all.indexOf(k) === i)
                .map((k) => {
                  const [p, st] = k.split('/');
                  return [k, both(sent, p, st) - both(before, p, st)];
                }),
            ),
          ),
        ) +
        '\n',
    );
  }, 180_000);

  it('both expositions pass promtool check metrics with no warning', async () => {
    await scrape();
    for (const app of ['producer', 'consumer'] as const) {
      expect(texts[app]).toContain(`${REQUESTS}{provider="imap",status="ok"}`);
      const checked = promtoolCheckMetrics(texts[app]);
      expect({ app, ...checked }).toEqual({ app, status: 0, output: '' });
    }
  });
});
