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
  promtoolCheckMetrics,
  waitForActiveSubscription,
} from '@email-core/testing';

const TOKEN = randomBytes(24).toString('hex');
const WRITTEN = 'email_core_sync_messages_written_total';
const DURATION = 'email_core_http_request_duration_seconds_count';
const WEBHOOK_ITEMS = 'email_core_webhook_notifications_total';
const WEBHOOK_DURATION = 'email_core_webhook_request_duration_seconds_count';
const PROVIDER_REQUESTS = 'email_core_provider_requests_total';
const RETRY_WAITS = 'email_core_provider_retry_wait_seconds';
const IN_FLIGHT = 'email_core_provider_mailbox_requests_in_flight';

/** the emulator's defaults (apps/outlook-emulator/src/faults/faults.service.ts), put back after a fault */
const DEFAULT_FAULTS = {
  throttling: { enabled: true, concurrency: 4, budget: 10000, windowSeconds: 600, retryAfterSeconds: 1 },
  randomErrors: { rate: 0, statuses: [429, 503, 504], retryAfterSeconds: 1 },
  failNext: { count: 0, status: 429, retryAfterSeconds: 1 },
  latencyMs: 0,
};

interface EmulatorStats {
  mailboxes: Record<string, { requests: number; throttled: number; statuses: Record<string, number> }>;
  notifications: { attempts: number; deliveredItems: number; byStatus: Record<string, number> };
}

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
    // its own database: the account and subscription gauges count this test's accounts only
    product = await startProduct({ isolated: true, appEnv: { METRICS_TOKEN: TOKEN } });
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
      const check = promtoolCheckMetrics(r.text);
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
    expect(promtoolCheckMetrics(producerText)).toEqual({ status: 0, output: '' });
    const consumerText = (await scrape(consumer, `Bearer ${TOKEN}`)).text;
    expect(promtoolCheckMetrics(consumerText)).toEqual({ status: 0, output: '' });
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
    await waitForActiveSubscription(product);
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

  const consumerSamples = async () => parseExposition((await scrape(consumer, `Bearer ${TOKEN}`)).text);
  const producerSamples = async () => parseExposition((await scrape(producer, `Bearer ${TOKEN}`)).text);
  /** both apps' samples together (the Graph client runs in both: linking in the producer, the rest in the consumer) */
  const bothSamples = async () => [...(await producerSamples()), ...(await consumerSamples())];
  const emulatorStats = () => product.emulator.admin<EmulatorStats>('GET', '/_emulator/stats');
  const throttledTotal = (s: EmulatorStats) =>
    Object.values(s.mailboxes).reduce((n, m) => n + m.throttled, 0);
  const requestsTotal = (s: EmulatorStats) => Object.values(s.mailboxes).reduce((n, m) => n + m.requests, 0);
  const answered = (s: EmulatorStats) =>
    Object.entries(s.notifications.byStatus).reduce((n, [status, c]) => (status === '0' ? n : n + c), 0);
  /** until the emulator has no delivery outstanding and has had no Graph request for 2 s */
  const quiet = async (): Promise<EmulatorStats> => {
    let last = -1;
    let since = Date.now();
    return waitFor(
      async () => {
        const { outstanding } = await product.emulator.admin<{ outstanding: number }>(
          'GET',
          '/_emulator/subscriptions/deliveries',
        );
        const s = await emulatorStats();
        const n = requestsTotal(s) + s.notifications.attempts;
        if (n !== last || outstanding > 0) {
          last = n;
          since = Date.now();
          return undefined;
        }
        return Date.now() - since >= 2000 ? s : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 250, what: 'the emulator to go quiet' },
    );
  };

  it('a webhook burst: items accepted = the change items the emulator delivered, one latency per POST; forged items dropped by reason', async () => {
    if (!synced) throw new Error('needs the synced mailbox of the earlier tests');
    const emulatorBefore = await quiet();
    const before = await producerSamples();
    const writtenBefore = sumOf(await consumerSamples(), WRITTEN, { provider: 'outlook' });
    await product.emulator.admin('POST', `/_emulator/mailboxes/${mailbox}/activity`, {
      creates: 40,
      updates: 10,
      moves: 0,
      deletes: 0,
      seed: 2202,
      wait: true,
    });
    await waitFor(
      async () =>
        sumOf(await consumerSamples(), WRITTEN, { provider: 'outlook' }) - writtenBefore >= 40
          ? true
          : undefined,
      { timeoutMs: 90_000, intervalMs: 500, what: 'the burst to be mirrored' },
    );
    const emulatorAfter = await quiet();
    let after = await producerSamples();
    const grown = (name: string, labels: Record<string, string> = {}) =>
      sumOf(after, name, labels) - sumOf(before, name, labels);
    const delivered =
      emulatorAfter.notifications.deliveredItems - emulatorBefore.notifications.deliveredItems;
    expect(delivered).toBeGreaterThanOrEqual(40);
    expect(grown(WEBHOOK_ITEMS, { outcome: 'accepted' })).toBe(delivered);
    expect(grown(WEBHOOK_ITEMS, { outcome: 'dropped_unknown_subscription' })).toBe(0);
    // every POST the emulator got an answer to, timed once under its endpoint
    expect(grown(WEBHOOK_DURATION)).toBe(answered(emulatorAfter) - answered(emulatorBefore));
    expect(grown(WEBHOOK_DURATION, { endpoint: 'notifications', status_code: '202' })).toBeGreaterThanOrEqual(
      1,
    );

    // forged items in one POST: 25 for subscriptions nobody has, 15 for the mailbox's with a wrong clientState
    const subs = await product.emulator.admin<{
      value: Array<{ id: string; address: string; state: string }>;
    }>('GET', '/_emulator/subscriptions');
    const sub = subs.value.find((x) => x.address === mailbox && x.state === 'active');
    if (!sub) throw new Error(`no active subscription for ${mailbox}`);
    const item = (subscriptionId: string, clientState: string) => ({
      subscriptionId,
      clientState,
      changeType: 'created',
      resource: `Users/u-1/Messages/AAMk-${randomBytes(4).toString('hex')}`,
    });
    const value = [
      ...Array.from({ length: 25 }, () => item(`forged-${randomBytes(8).toString('hex')}`, 'x')),
      ...Array.from({ length: 15 }, () => item(sub.id, 'not-the-client-state')),
    ];
    const forgedBefore = after;
    const res = await fetch(`${product.api}/api/v1/graph/notifications`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ value }),
    });
    expect(res.status).toBe(202);
    after = await producerSamples();
    const forged = (name: string, labels: Record<string, string> = {}) =>
      sumOf(after, name, labels) - sumOf(forgedBefore, name, labels);
    expect(forged(WEBHOOK_ITEMS, { outcome: 'dropped_unknown_subscription' })).toBe(25);
    expect(forged(WEBHOOK_ITEMS, { outcome: 'dropped_client_state_mismatch' })).toBe(15);
    expect(forged(WEBHOOK_ITEMS, { outcome: 'accepted' })).toBe(0);
    expect(forged(WEBHOOK_DURATION, { endpoint: 'notifications', status_code: '202' })).toBe(1);
    // the subscription's id and clientState are not labels
    const text = (await scrape(producer, `Bearer ${TOKEN}`)).text;
    expect(text).not.toContain(sub.id);
  }, 240_000);

  it("a 429 storm while a mailbox syncs: the 429 counter moves by exactly the emulator's throttled count; waits and in-flight counts recorded", async () => {
    if (!synced) throw new Error('needs the product of the earlier tests');
    const storm = `storm-${randomBytes(3).toString('hex')}@contoso.example`;
    await product.emulator.admin('POST', '/_emulator/mailboxes', {
      address: storm,
      password: 'mailbox-password',
      seed: { messages: 300, folders: 3, seed: 23 },
    });
    const emulatorBefore = await quiet();
    const before = await bothSamples();
    // 6 requests per 2 s window per mailbox: most of the sync meets 429 with a Retry-After to the window's end
    await product.emulator.admin('POST', '/_emulator/faults', {
      throttling: { enabled: true, concurrency: 1000, budget: 6, windowSeconds: 2, retryAfterSeconds: 1 },
    });
    try {
      const { token } = await signUp(product.api);
      await linkOutlook(product, token, storm, 'mailbox-password');
      await waitForAccountStatus(product.api, token, 'synced', { timeoutMs: 180_000 });
    } finally {
      await product.emulator.admin('POST', '/_emulator/faults', DEFAULT_FAULTS);
    }
    const emulatorAfter = await quiet();
    const after = await bothSamples();
    const grown = (name: string, labels: Record<string, string> = {}) =>
      sumOf(after, name, labels) - sumOf(before, name, labels);
    const throttled = throttledTotal(emulatorAfter) - throttledTotal(emulatorBefore);
    expect(throttled).toBeGreaterThan(0);
    expect(grown(PROVIDER_REQUESTS, { provider: 'outlook', status: '429' })).toBe(throttled);
    // every request the emulator counted for a mailbox, answered, is one the apps counted
    expect(grown(PROVIDER_REQUESTS, { provider: 'outlook' })).toBe(
      requestsTotal(emulatorAfter) - requestsTotal(emulatorBefore),
    );
    // each 429 waited out in-process (Retry-After ≤ 1 s here), or handed back when a request ran out of attempts
    const waits = grown(`${RETRY_WAITS}_count`, { provider: 'outlook' });
    expect(waits).toBeGreaterThan(0);
    expect(waits).toBeLessThanOrEqual(throttled);
    expect(grown(`${RETRY_WAITS}_sum`, { provider: 'outlook' })).toBeLessThanOrEqual(waits * 2);
    // in flight per mailbox at each start: never above Outlook's 4 in one process
    const starts = grown(`${IN_FLIGHT}_count`, { provider: 'outlook' });
    expect(starts).toBeGreaterThan(0);
    expect(grown(`${IN_FLIGHT}_bucket`, { provider: 'outlook', le: '4' })).toBe(starts);
  }, 300_000);

  it('failNext: three 429s with Retry-After 2 s, three waits of exactly 2 s, the 429 counter +3', async () => {
    if (!synced) throw new Error('needs the synced mailbox of the earlier tests');
    const emulatorBefore = await quiet();
    const before = await bothSamples();
    const writtenBefore = sumOf(before, WRITTEN, { provider: 'outlook' });
    await product.emulator.admin('POST', '/_emulator/faults', {
      failNext: { count: 3, status: 429, retryAfterSeconds: 2 },
    });
    try {
      await product.emulator.admin('POST', `/_emulator/mailboxes/${mailbox}/activity`, {
        creates: 2,
        updates: 0,
        moves: 0,
        deletes: 0,
        seed: 2203,
        wait: true,
      });
      await waitFor(
        async () =>
          sumOf(await consumerSamples(), WRITTEN, { provider: 'outlook' }) - writtenBefore >= 2
            ? true
            : undefined,
        { timeoutMs: 90_000, intervalMs: 500, what: 'the two new messages to be mirrored' },
      );
    } finally {
      await product.emulator.admin('POST', '/_emulator/faults', DEFAULT_FAULTS);
    }
    const emulatorAfter = await quiet();
    const after = await bothSamples();
    const grown = (name: string, labels: Record<string, string> = {}) =>
      sumOf(after, name, labels) - sumOf(before, name, labels);
    expect(throttledTotal(emulatorAfter) - throttledTotal(emulatorBefore)).toBe(3);
    expect(grown(PROVIDER_REQUESTS, { provider: 'outlook', status: '429' })).toBe(3);
    expect(grown(`${RETRY_WAITS}_count`, { provider: 'outlook' })).toBe(3);
    expect(grown(`${RETRY_WAITS}_sum`, { provider: 'outlook' })).toBeCloseTo(6, 6);
    expect(grown(`${RETRY_WAITS}_bucket`, { provider: 'outlook', le: '1' })).toBe(0);
    expect(grown(`${RETRY_WAITS}_bucket`, { provider: 'outlook', le: '2' })).toBe(3);
  }, 180_000);

  it('the gauges: consumer lag per group and partition, accounts by status, subscriptions by state, outbox backlog, IMAP watches; promtool still clean', async () => {
    if (!synced) throw new Error('needs the synced mailboxes of the earlier tests');
    // two linked Outlook accounts (the first test's and the storm's), each with its subscription, nothing pending
    const producerNow = await waitFor(
      async () => {
        const s = await producerSamples();
        return sumOf(s, 'email_core_graph_subscriptions', { state: 'active' }) === 2 &&
          sumOf(s, 'email_core_outbox_pending_messages') === 0
          ? s
          : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1000, what: 'both subscriptions active and the outbox empty' },
    );
    expect(sumOf(producerNow, 'email_core_mail_accounts', { provider: 'outlook', status: 'synced' })).toBe(2);
    expect(sumOf(producerNow, 'email_core_mail_accounts')).toBe(2);
    expect(producerNow.filter((s) => s.name === 'email_core_mail_accounts').length).toBe(8);
    expect(sumOf(producerNow, 'email_core_graph_subscriptions_expiring', { within_seconds: '+Inf' })).toBe(2);
    expect(sumOf(producerNow, 'email_core_graph_subscriptions', { state: 'expired' })).toBe(0);
    expect(sumOf(producerNow, 'email_core_outbox_relay_lag_seconds')).toBe(0);
    expect(sumOf(producerNow, 'email_core_outbox_rejected_messages')).toBe(0);

    const consumerNow = await waitFor(
      async () => {
        const s = await consumerSamples();
        const lag = s.filter((x) => x.name === 'email_core_kafka_consumer_lag');
        return lag.some((x) => x.labels.group === 'email-core-sync') &&
          sumOf(s, 'email_core_kafka_consumer_lag') === 0
          ? s
          : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1000, what: "the consumer's groups caught up" },
    );
    const lagSeries = consumerNow.filter((s) => s.name === 'email_core_kafka_consumer_lag');
    expect(lagSeries).toContainEqual({
      name: 'email_core_kafka_consumer_lag',
      labels: {
        group: 'email-core-sync',
        topic: Topics.syncRequests,
        partition: expect.any(String) as string,
      },
      value: 0,
    });
    expect(
      lagSeries.some(
        (s) => s.labels.group === 'email-core-notifications' && s.labels.topic === Topics.mailboxPokes,
      ),
    ).toBe(true);
    for (const s of lagSeries) expect(Number(s.labels.partition)).toBeLessThan(6);
    // the producer's own real-time group (socket events), under one label whatever the instance's name
    const realtime = await waitFor(
      async () => {
        const s = (await producerSamples()).filter((x) => x.name === 'email_core_kafka_consumer_lag');
        return s.length > 0 ? s : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 1000, what: "the producer's real-time group lag" },
    );
    for (const s of realtime) {
      expect(s.labels).toEqual({
        group: 'email-core-realtime',
        topic: Topics.events,
        partition: s.labels.partition,
      });
    }
    for (const state of ['idle_notify', 'idle_status_poll', 'idle_connecting', 'polled', 'halted']) {
      expect(consumerNow).toContainEqual({
        name: 'email_core_imap_watched_accounts',
        labels: { state },
        value: 0,
      });
    }
    for (const base of [producer, consumer]) {
      expect(promtoolCheckMetrics((await scrape(base, `Bearer ${TOKEN}`)).text)).toEqual({
        status: 0,
        output: '',
      });
    }
  }, 180_000);
});
