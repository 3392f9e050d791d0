import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Topics } from '@email-core/contracts';
import { parseExposition, sumOf, type Sample } from '@email-core/metrics';
import {
  apiCall,
  linkOutlook,
  signUp,
  startProduct,
  waitFor,
  waitForAccountStatus,
  type RunningProduct,
} from '@email-core/testing';

const TOKEN = randomBytes(24).toString('hex');
const WRITTEN = 'email_core_sync_messages_written_total';
const DURATION = 'email_core_http_request_duration_seconds_count';

interface Scrape {
  status: number;
  contentType: string | null;
  text: string;
}

async function scrape(url: string, authorization?: string): Promise<Scrape> {
  const res = await fetch(`${url}/metrics`, {
    headers: authorization ? { authorization } : {},
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, contentType: res.headers.get('content-type'), text: await res.text() };
}

/** `promtool check metrics` on an exposition text: its exit status and everything it printed */
function promtool(text: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
  if (r.error) {
    throw new Error(
      `promtool not runnable (${r.error.message}): install Debian's prometheus package (apt-get install prometheus)`,
    );
  }
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

/**
 * Issue 22 (metrics): both apps serve GET /metrics (behind METRICS_TOKEN here), valid exposition text that
 * promtool accepts with no warnings; a real sync from the emulator moves the sync counter by exactly the mailbox's
 * message count, and an API read shows up under its route pattern. No label carries an id.
 */
describe('GET /metrics on the producer and the consumer', () => {
  let product: RunningProduct;
  let producer: string;
  let consumer: string;
  const mailbox = `metrics-${randomBytes(3).toString('hex')}@contoso.example`;
  let synced = false;

  beforeAll(async () => {
    product = await startProduct({ appEnv: { METRICS_TOKEN: TOKEN } });
    producer = product.apis[0];
    consumer = `http://127.0.0.1:${product.env.CONSUMER_PORT}`;
    await product.emulator.admin('POST', '/_emulator/mailboxes', {
      address: mailbox,
      displayName: 'Metrics Test',
      password: 'mailbox-password',
      seed: { messages: 240, folders: 2, seed: 22 },
    });
  }, 120_000);

  afterAll(async () => {
    await product?.stop();
  });

  it('answers 401 UNAUTHENTICATED without the bearer token or with a wrong one, on both apps', async () => {
    for (const base of [producer, consumer]) {
      for (const authorization of [undefined, 'Bearer wrong-token', `Bearer ${TOKEN}0`, `Basic ${TOKEN}`]) {
        const r = await scrape(base, authorization);
        expect({ base, authorization, status: r.status }).toEqual({ base, authorization, status: 401 });
        expect(JSON.parse(r.text)).toMatchObject({ error: 'UNAUTHENTICATED' });
        expect(r.text).not.toContain('email_core_');
      }
    }
  });

  it('serves Prometheus text that promtool accepts with no warnings, on both apps', async () => {
    for (const base of [producer, consumer]) {
      const r = await scrape(base, `Bearer ${TOKEN}`);
      expect(r.status).toBe(200);
      expect(r.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
      const check = promtool(r.text);
      expect({ base, ...check }).toEqual({ base, status: 0, output: '' });
      const samples = parseExposition(r.text);
      expect(samples.every((s) => s.name.startsWith('email_core_'))).toBe(true);
      expect(sumOf(samples, 'email_core_process_start_time_seconds')).toBeGreaterThan(0);
    }
    const consumerSamples = parseExposition((await scrape(consumer, `Bearer ${TOKEN}`)).text);
    // every work topic, by its logical name (the test run's topic prefix is not a label)
    expect(consumerSamples).toContainEqual({
      name: 'email_core_kafka_messages_total',
      labels: { topic: Topics.syncRequests, outcome: 'dead_lettered' },
      value: 0,
    });
    const prefix = product.env.KAFKA_TOPIC_PREFIX;
    expect(prefix).toBeTruthy();
    expect(consumerSamples.filter((s) => s.labels.topic?.startsWith(prefix))).toEqual([]);
  });

  it("a sync moves email_core_sync_messages_written_total by exactly the mailbox's message count; the API's reads show by route", async () => {
    const before = parseExposition((await scrape(consumer, `Bearer ${TOKEN}`)).text);
    const { token, email } = await signUp(product.api);
    await linkOutlook(product, token, mailbox, 'mailbox-password');
    const account = await waitForAccountStatus(product.api, token, 'synced');

    const exp = await product.emulator.admin<{
      folders: Array<{ id: string; totalItemCount: number; isHidden: boolean }>;
    }>('GET', `/_emulator/mailboxes/${mailbox}/export`);
    const total = exp.folders.filter((f) => !f.isHidden).reduce((n, f) => n + f.totalItemCount, 0);
    expect(total).toBe(240);

    let after: Sample[] = parseExposition((await scrape(consumer, `Bearer ${TOKEN}`)).text);
    expect(
      sumOf(after, WRITTEN, { provider: 'outlook' }) - sumOf(before, WRITTEN, { provider: 'outlook' }),
    ).toBe(total);
    expect(
      sumOf(after, 'email_core_kafka_messages_total', { topic: Topics.syncRequests, outcome: 'handled' }),
    ).toBeGreaterThanOrEqual(1);

    // a page of messages through the API: its duration under the route's pattern, never the account id
    const folders = await apiCall<{ items: Array<{ id: string }> }>(
      product.api,
      'GET',
      `/api/v1/accounts/${account.id}/folders`,
      { token },
    );
    const page = await apiCall(
      product.api,
      'GET',
      `/api/v1/accounts/${account.id}/messages?folderId=${encodeURIComponent(folders.body.items[0].id)}&limit=50`,
      { token },
    );
    expect(page.status).toBe(200);
    const producerText = (await scrape(producer, `Bearer ${TOKEN}`)).text;
    after = parseExposition(producerText);
    expect(
      sumOf(after, DURATION, {
        method: 'GET',
        route: '/api/v1/accounts/:accountId/messages',
        status_code: '200',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(sumOf(after, 'email_core_query_cache_requests_total')).toBeGreaterThanOrEqual(1);
    expect(promtool(producerText)).toEqual({ status: 0, output: '' });
    const consumerText = (await scrape(consumer, `Bearer ${TOKEN}`)).text;
    expect(promtool(consumerText)).toEqual({ status: 0, output: '' });
    // bounded labels: no account id, user address or mailbox in any series of either app
    for (const text of [producerText, consumerText]) {
      expect(text).not.toContain(account.id);
      expect(text).not.toContain(email);
      expect(text).not.toContain(mailbox);
    }
    synced = true;
  }, 240_000);

  it('new mail: the webhook answers under its route (fast lane), a webhook round runs and writes exactly the new messages', async () => {
    if (!synced) throw new Error('needs the synced mailbox of the previous test');
    await waitFor(
      async () => {
        const subs = await product.emulator.admin<{
          value: Array<{ notificationUrl: string; state: string }>;
        }>('GET', '/_emulator/subscriptions');
        return subs.value.some((x) => x.state === 'active' && x.notificationUrl.startsWith(product.api))
          ? true
          : undefined;
      },
      { timeoutMs: 60_000, what: "the mailbox's subscription" },
    );
    const consumerNow = async () => parseExposition((await scrape(consumer, `Bearer ${TOKEN}`)).text);
    const before = await consumerNow();
    await product.emulator.admin('POST', `/_emulator/mailboxes/${mailbox}/activity`, {
      creates: 5,
      updates: 0,
      moves: 0,
      deletes: 0,
      seed: 2201,
      wait: true,
    });
    const grown = (now: Sample[], name: string, labels: Record<string, string>) =>
      sumOf(now, name, labels) - sumOf(before, name, labels);
    const after = await waitFor(
      async () => {
        const now = await consumerNow();
        return grown(now, WRITTEN, { provider: 'outlook' }) >= 5 &&
          grown(now, 'email_core_mirror_rounds_total', { provider: 'outlook', source: 'webhook' }) >= 1
          ? now
          : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'the webhook round to write the new messages' },
    );
    // a notification delivered twice writes nothing more: the messages written are exactly the new ones
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(grown(await consumerNow(), WRITTEN, { provider: 'outlook' })).toBe(5);
    expect(
      grown(after, 'email_core_kafka_messages_total', { topic: Topics.mailboxPokes, outcome: 'handled' }),
    ).toBeGreaterThanOrEqual(1);
    const producerSamples = parseExposition((await scrape(producer, `Bearer ${TOKEN}`)).text);
    expect(
      sumOf(producerSamples, DURATION, {
        method: 'POST',
        route: '/api/v1/graph/notifications',
        status_code: '202',
      }),
    ).toBeGreaterThanOrEqual(1);
  }, 180_000);
});
