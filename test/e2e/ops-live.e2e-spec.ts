import { randomBytes } from 'node:crypto';
import path from 'node:path';
import {
  apiCall,
  ensureDashboardBuild,
  grantOperator,
  linkOutlook,
  openBrowser,
  signInThroughUi,
  signUp,
  startProduct,
  waitFor,
  waitForAccountStatus,
  type BrowserSession,
  type RunningProduct,
  waitForActiveSubscription,
} from '@email-core/testing';

const TOKEN = randomBytes(24).toString('hex');
const PASSWORD = 'correct horse battery staple';
const SCREENSHOT = path.resolve(__dirname, '../../docs/screenshots/ops-live.png');

interface LiveMetrics {
  fetchedAt: string;
  sampledAt: string | null;
  windowSeconds: number;
  syncMessagesPerSecond: number | null;
  syncMessages: number | null;
  webhookP95Seconds: number | null;
  webhookRequests: number;
  kafkaLag: number | null;
  kafkaError: string | null;
  provider429s: number;
  consumers: Array<{ url: string; reachable: boolean; error: string | null }>;
}

/**
 * Issue 22, the Ops page's live panel without Prometheus: `GET /ops/live` (operators only) answers the sync rate
 * (the consumer's GET /metrics, read with METRICS_TOKEN), the webhook's answer p95 (the producer's own registry),
 * the Kafka lag (the broker) and provider 429s over the last minute; the real dashboard in headless Chromium
 * shows them, with a non-zero sync rate while a mailbox syncs. The screenshot is docs/screenshots/ops-live.png.
 */
describe('the Ops live panel (GET /ops/live and the Ops page)', () => {
  let product: RunningProduct;
  let browser: BrowserSession | undefined;
  const operatorEmail = `live-ops-${randomBytes(4).toString('hex')}@example.test`;
  let operator = '';
  const mailbox = (n: number) => `live-${n}-${randomBytes(3).toString('hex')}@contoso.example`;
  const first = mailbox(1);
  const second = mailbox(2);

  const live = async (token = operator) =>
    apiCall<LiveMetrics>(product.api, 'GET', '/api/v1/ops/live', { token });
  const liveUntil = (what: string, ok: (l: LiveMetrics) => boolean, timeoutMs = 90_000) =>
    waitFor(
      async () => {
        const r = await live();
        return r.status === 200 && ok(r.body) ? r.body : undefined;
      },
      { timeoutMs, intervalMs: 1000, what: `GET /ops/live: ${what}` },
    );

  beforeAll(async () => {
    ensureDashboardBuild();
    product = await startProduct({
      // its own topics and groups: the lag is this product's alone
      isolated: true,
      appEnv: { METRICS_TOKEN: TOKEN, LOG_LEVEL: 'warn' },
    });
    for (const [address, messages] of [
      [first, 200],
      [second, 400],
    ] as const) {
      await product.emulator.admin('POST', '/_emulator/mailboxes', {
        address,
        displayName: 'Live Panel',
        password: 'mailbox-password',
        seed: { messages, folders: 3, seed: messages },
      });
    }
    operator = (await signUp(product.api, operatorEmail)).token;
    await grantOperator(product.databaseUrl, operatorEmail);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await product?.stop();
  });

  it('operators only: 401 without a token, 403 OPS_FORBIDDEN for a user', async () => {
    expect((await apiCall(product.api, 'GET', '/api/v1/ops/live')).status).toBe(401);
    const user = await signUp(product.api);
    const r = await live(user.token);
    expect({ status: r.status, error: (r.body as unknown as { error: string }).error }).toEqual({
      status: 403,
      error: 'OPS_FORBIDDEN',
    });
  });

  it('a sync, a webhook burst and 429s from the emulator show in the figures; the consumer is read with the token', async () => {
    // the first answer starts the readings: one reading, no rates yet; the consumer answered with the token
    const start = await live();
    expect(start.status).toBe(200);
    expect(start.body).toMatchObject({
      windowSeconds: 0,
      syncMessagesPerSecond: null,
      kafkaError: null,
      consumers: [{ url: `http://127.0.0.1:${product.env.CONSUMER_PORT}`, reachable: true, error: null }],
    });

    const { token } = await signUp(product.api);
    await linkOutlook(product, token, first, 'mailbox-password');
    await waitForAccountStatus(product.api, token, 'synced');
    const synced = await liveUntil('the sync written', (l) => (l.syncMessages ?? 0) >= 200);
    expect(synced.syncMessagesPerSecond).toBeGreaterThan(0);
    expect(synced.windowSeconds).toBeGreaterThan(0);
    expect(synced.windowSeconds).toBeLessThanOrEqual(65);

    // new mail arrives through the webhook while the emulator answers the next Graph requests 429
    await waitForActiveSubscription(product);
    await product.emulator.admin('POST', '/_emulator/faults', {
      failNext: { count: 3, status: 429, retryAfterSeconds: 1 },
    });
    for (let i = 0; i < 3; i++) {
      await product.emulator.admin('POST', `/_emulator/mailboxes/${first}/activity`, {
        creates: 5,
        updates: 1,
        moves: 0,
        deletes: 0,
        seed: 700 + i,
        wait: true,
      });
    }
    const after = await liveUntil(
      'webhook answers, three 429s and the lag drained',
      (l) => l.webhookRequests >= 1 && l.provider429s >= 3 && l.kafkaLag === 0,
    );
    expect(after.webhookP95Seconds).toBeGreaterThan(0);
    expect(after.webhookP95Seconds).toBeLessThan(5);
    expect(after.provider429s).toBe(3);
    expect(after.kafkaError).toBeNull();
    // the token the consumer is read with never shows
    expect(JSON.stringify(after)).not.toContain(TOKEN);
  }, 300_000);

  it('the Ops page shows the live panel: a non-zero sync rate while a mailbox syncs, the lag, webhook p95, 429s', async () => {
    browser = await openBrowser({
      baseUrl: product.api,
      name: 'ops-live',
      viewport: { width: 1280, height: 800 },
    });
    const { page } = browser;
    await signInThroughUi(page, operatorEmail, PASSWORD);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Ops' }).click();
    await page.waitForURL(/#\/ops$/);
    const panel = page.getByRole('definition').filter({ has: page.locator('.ops-live-value') });
    const figures = page.getByLabel('Live metrics');
    await figures.waitFor();
    const value = (label: string) =>
      figures
        .getByRole('term')
        .filter({ hasText: new RegExp(`^${label}$`) })
        .locator('xpath=following-sibling::dd')
        .locator('.ops-live-value');
    expect(await panel.count()).toBe(4);

    // a second mailbox syncs while the page is open
    const { token } = await signUp(product.api);
    await linkOutlook(product, token, second, 'mailbox-password');
    await waitForAccountStatus(product.api, token, 'synced');
    const rate = await waitFor(
      async () => {
        const text = (await value('Sync rate').textContent())?.trim() ?? '';
        return /^[\d.,]+ msg\/s$/.test(text) && Number(text.replace(/[^\d.]/g, '')) > 0 ? text : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, what: 'a non-zero sync rate on the page' },
    );
    expect(rate).toMatch(/msg\/s$/);
    expect((await value('Kafka lag').textContent())?.trim()).toMatch(/^\d[\d,]*$/);
    expect((await value('Webhook p95').textContent())?.trim()).toMatch(/^(\d+ ms|[\d.]+ s)$/);
    expect((await value('Provider 429s').textContent())?.trim()).toMatch(/^\d+$/);
    // a few readings for the sparklines, then the picture
    await waitFor(
      async () => ((await figures.locator('svg.ops-sparkline').count()) === 4 ? true : undefined),
      {
        timeoutMs: 30_000,
        intervalMs: 500,
        what: 'the sparklines',
      },
    );
    await page.waitForTimeout(6000);
    await page.locator('section[aria-labelledby="ops-live"]').screenshot({ path: SCREENSHOT });
    await browser.shot('ops-live');
    browser.expectNoConsoleErrors();
  }, 240_000);
});
