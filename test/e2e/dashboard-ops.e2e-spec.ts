import { randomBytes, randomUUID } from 'node:crypto';
import { Kafka, Partitioners } from 'kafkajs';
import { Topics } from '@email-core/contracts';
import {
  apiCall,
  currentTestRun,
  ensureDashboardBuild,
  grantOperator,
  linkOutlook,
  openBrowser,
  startProduct,
  waitFor,
  waitForAccountStatus,
  type BrowserSession,
  type RunningProduct,
  signUpThroughUi,
} from '@email-core/testing';

const PASSWORD = 'correct horse battery staple';
const MAILBOX = 'ops-page@ops.example';

/**
 * Issue 7, the Ops page in real headless Chromium against the real stack: a user signs up in the UI on a product
 * configured as `npm start` configures it (no OPS_ADMIN_EMAILS) and gets no Ops tab; `npm run ops:grant` (issue 16)
 * makes them an operator, and after a reload (no new sign-in) they find the Ops tab, sees the project's topics with
 * their end offsets and the consumer groups' lag, replays a dead letter from the UI (it is sent again and, still
 * poison, comes back as a new dead letter), sees the linked mailbox's Graph subscription with its expiry, and the
 * database's primary and read replica, serving (issue 21); the page works at phone width and in the dark theme; a
 * user who is not an operator gets no tab and no data. No console errors; a screenshot per step.
 */
describe('dashboard: the Ops page (headless Chromium)', () => {
  let product: RunningProduct;
  let browser: BrowserSession;
  const email = `operator-${randomBytes(4).toString('hex')}@example.test`;
  const poisonKey = randomUUID();
  let prefix = '';

  beforeAll(async () => {
    ensureDashboardBuild();
    product = await startProduct({
      isolated: true,
      // as `npm start` starts it: nobody is an operator until `npm run ops:grant` says so; queries read the replica
      appEnv: { LOG_LEVEL: 'warn' },
      replica: true,
    });
    prefix = product.env.KAFKA_TOPIC_PREFIX;

    // a poison message on the mail-commands topic: the worker dead-letters it at once
    const kafka = new Kafka({
      clientId: 'dashboard-ops-e2e',
      brokers: currentTestRun().kafkaBrokers,
      logLevel: 0,
    });
    const admin = kafka.admin();
    await admin.connect();
    const commands = `${prefix}${Topics.mailCommands}`;
    await waitFor(async () => ((await admin.listTopics()).includes(commands) ? true : undefined), {
      timeoutMs: 30000,
      what: commands,
    });
    await admin.disconnect();
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic: commands, messages: [{ key: poisonKey, value: '{"type":"mail.command"' }] });
    await producer.disconnect();

    browser = await openBrowser({ baseUrl: product.api, name: 'dashboard-ops' });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await product?.stop();
  });

  it('an operator signs up and sees topics, lag, dead letters (replayed from the UI) and subscriptions', async () => {
    const { page } = browser;
    await signUpThroughUi(page, email, PASSWORD);

    // link a mailbox through the API as this user, so there is a subscription to show
    const signIn = await apiCall<{ accessToken: string }>(product.api, 'POST', '/api/v1/auth/signin', {
      body: { email, password: PASSWORD },
    });
    expect(signIn.status).toBe(200);
    await product.emulator.admin('POST', '/_emulator/mailboxes', {
      address: MAILBOX,
      displayName: 'Ops Page',
      password: 'mailbox-password',
      seed: { messages: 10, seed: 3 },
    });
    await linkOutlook(product, signIn.body.accessToken, MAILBOX, 'mailbox-password');
    await waitForAccountStatus(product.api, signIn.body.accessToken, 'synced');

    // not an operator yet: no Ops link
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Mail' }).waitFor();
    expect(await nav.getByRole('link', { name: 'Ops' }).count()).toBe(0);
    await browser.shot('ops-before-grant');

    // the real script, against this product's database; the same session, reloaded, now shows the link
    await grantOperator(product.databaseUrl, email);
    await page.reload();
    await nav.getByRole('link', { name: 'Ops' }).click();
    await page.waitForURL(/#\/ops$/);
    await page.getByRole('heading', { level: 1, name: 'Ops' }).waitFor();

    // every project topic, with one end offset per partition
    const topics = page.getByRole('table', { name: 'Kafka topics' });
    await topics.waitFor();
    for (const t of Object.values(Topics)) {
      const row = topics.getByRole('row', { name: new RegExp(`^${t.replace(/\./g, '\\.')}\\b`) });
      await row.waitFor();
      expect(await row.getByRole('listitem').count()).toBe(6);
    }
    expect(await topics.locator('tbody tr').count()).toBe(Object.values(Topics).length);

    // the consumer groups with lag per partition and a total; the summary shows the total lag
    const groups = page.getByRole('table', { name: 'Consumer groups' });
    const sync = groups.getByRole('rowheader', { name: /email-core-sync/ });
    await sync.waitFor();
    expect(await sync.textContent()).toMatch(/Stable.*1 member.*Total lag\s*\d+/);
    const syncGroup = groups
      .locator('tbody')
      .filter({ has: page.getByRole('rowheader', { name: /email-core-sync/ }) });
    // the link's sync request is on one partition: committed there, so a lag figure; the five others never held
    // a message and are summed up in one line
    const syncRows = syncGroup.locator('tr:not(.ops-group-head):not(.ops-idle)');
    // the page refreshes every 5 s: wait for the sync worker to have committed everything (a second request
    // may still be in flight when the page first loads, showing a lag of 1)
    const cells = await waitFor(
      async () => {
        if ((await syncRows.count()) !== 1) return undefined;
        const row = await syncRows.first().locator('td').allTextContents();
        return row[4] === '0' ? row : undefined;
      },
      { timeoutMs: 30000, intervalMs: 500, what: "the sync group's partition with lag 0" },
    );
    const [topicCell, , committed, end] = cells;
    expect(topicCell).toBe(Topics.syncRequests);
    expect(committed).toMatch(/^\d+$/);
    expect(end).toBe(committed);
    expect(await syncGroup.locator('tr.ops-idle').textContent()).toContain('5 partitions empty');
    const totalLag = page
      .getByRole('term')
      .filter({ hasText: 'Total lag' })
      .locator('xpath=following-sibling::dd');
    expect((await totalLag.textContent())?.trim()).toMatch(/^\d[\d,]*$/);
    await browser.shot('ops-kafka');

    // the poison message is listed; replay it from the UI
    const deadLetters = page.getByRole('table', { name: 'Dead letters' });
    const poisonRows = deadLetters.getByRole('row').filter({ hasText: poisonKey });
    await waitFor(async () => ((await poisonRows.count()) === 1 ? true : undefined), {
      timeoutMs: 45000,
      intervalMs: 500,
      what: 'the dead letter on the page',
    });
    // pinned by its partition@offset: once replayed, a newer dead letter with the same key comes first
    const firstCell = poisonRows.first().locator('td').first();
    const at = (await firstCell.locator('div').first().textContent())?.trim() ?? '';
    expect(at).toMatch(/^\d+@\d+$/);
    // under it, the failed work's correlation id (the worker's fresh one: the poison was published without any)
    expect((await firstCell.locator('div').nth(1).textContent())?.trim()).toMatch(
      /^id [A-Za-z0-9._:-]{1,128}$/,
    );
    const poison = poisonRows.filter({ has: page.getByText(at, { exact: true }) });
    expect(await poison.textContent()).toContain('INVALID_MESSAGE');
    expect(await poison.textContent()).toContain('email-core.mail.commands');
    await poison.getByText('Payload').click();
    expect(await poison.locator('pre').textContent()).toBe('{"type":"mail.command"');
    const replay = poison.getByRole('button', { name: /^Replay dead letter/ });
    expect(await replay.isEnabled()).toBe(true);
    await replay.click();
    await poison
      .getByRole('status')
      .filter({ hasText: `Sent again to ${Topics.mailCommands}` })
      .waitFor();
    expect(await replay.isDisabled()).toBe(true);
    expect((await replay.textContent())?.trim()).toBe('Replayed');
    await browser.shot('ops-replayed');

    // still poison: the worker dead-letters it again, and the list (refreshed every 15 s) shows both
    await waitFor(async () => ((await poisonRows.count()) === 2 ? true : undefined), {
      timeoutMs: 45000,
      intervalMs: 500,
      what: 'the replayed message dead-lettered again',
    });
    const buttons = poisonRows.getByRole('button', { name: /^Replay dead letter/ });
    // newest first: the new one can be replayed; the original stays disabled
    expect(await buttons.nth(0).isEnabled()).toBe(true);
    expect(await buttons.nth(1).isDisabled()).toBe(true);
    expect(await poisonRows.nth(1).textContent()).toContain(at);

    // the linked mailbox's subscription, with its expiry
    const subscriptions = page.getByRole('table', { name: 'Graph subscriptions' });
    const sub = subscriptions.getByRole('row', { name: new RegExp(MAILBOX.replace(/\./g, '\\.')) });
    await waitFor(async () => ((await sub.count()) === 1 ? true : undefined), {
      timeoutMs: 45000,
      intervalMs: 500,
      what: 'the subscription on the page',
    });
    expect(await sub.textContent()).toMatch(/in \d+ (days?|hours?)/);
    expect(await sub.textContent()).toContain('Active');
    expect(await sub.locator('time').first().getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/);
    await subscriptions.scrollIntoViewIfNeeded();
    await browser.shot('ops-dead-letters-and-subscriptions');

    // issue 21: the primary, and the read replica serving with its lag (GET /ops/database, every 5 s)
    const database = page.getByRole('table', { name: 'Database primary and read replica' });
    const replicaRow = database.getByRole('row', { name: /^Read replica/ });
    // up to two minutes: test/e2e/read-replica pauses the shared replica's replay for about 30 s, and a paused
    // replica is degraded (lag beyond READ_REPLICA_MAX_LAG_MS) until it resumes
    await waitFor(async () => ((await replicaRow.textContent())?.includes('Serving') ? true : undefined), {
      timeoutMs: 120_000,
      intervalMs: 500,
      what: 'the read replica serving on the page',
    });
    expect(await replicaRow.textContent()).toMatch(/lag\s*\d+ m?s/);
    expect(await database.getByRole('row', { name: /^Primary/ }).textContent()).toMatch(
      /Up.*WAL\s*[0-9A-F]+\/[0-9A-F]+/,
    );
    await database.scrollIntoViewIfNeeded();
    await browser.shot('ops-database');

    browser.expectNoConsoleErrors();
  }, 300_000);

  it('works at phone width (tables scroll inside their box) and in the dark theme', async () => {
    const { page } = browser;
    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByRole('table', { name: 'Kafka topics' }).waitFor();
    // evaluated in the page (a string: this file is compiled without the DOM's types)
    const overflow = await page.evaluate<{ main: number; wrapsWithin: boolean; scrolls: boolean }>(`(() => {
      const main = document.querySelector('main.ops-page');
      const wraps = [...document.querySelectorAll('.ops-table-wrap')];
      return {
        main: main ? main.scrollWidth - main.clientWidth : -1,
        wrapsWithin: wraps.every((w) => w.getBoundingClientRect().right <= window.innerWidth + 1),
        scrolls: wraps.some((w) => w.scrollWidth > w.clientWidth),
      };
    })()`);
    // the page does not scroll sideways; the wide tables do, inside their own box
    expect(overflow).toEqual({ main: 0, wrapsWithin: true, scrolls: true });
    await browser.shot('ops-phone');

    await page.getByRole('button', { name: 'Use dark theme' }).click();
    expect(await page.locator('html').getAttribute('data-theme')).toBe('dark');
    await page.setViewportSize({ width: 1400, height: 900 });
    await page.getByRole('table', { name: 'Consumer groups' }).scrollIntoViewIfNeeded();
    await browser.shot('ops-dark');
    browser.expectNoConsoleErrors();
  }, 60_000);

  it('a user who is not an operator gets no Ops tab and no data', async () => {
    const other = await openBrowser({ baseUrl: product.api, name: 'dashboard-ops-not-operator' });
    try {
      const { page } = other;
      const requests: string[] = [];
      page.on('request', (r) => {
        if (r.url().includes('/api/v1/ops/')) requests.push(r.url());
      });
      await signUpThroughUi(page, `user-${randomBytes(4).toString('hex')}@example.test`, PASSWORD);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Mail' }).waitFor();
      expect(
        await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Ops' }).count(),
      ).toBe(0);
      await page.goto('/#/ops');
      await page.getByRole('alert').filter({ hasText: 'npm run ops:grant' }).waitFor();
      expect(await page.getByRole('table').count()).toBe(0);
      expect(requests).toEqual([]);
      await other.shot('ops-not-operator');
      other.expectNoConsoleErrors();
    } finally {
      await other.close();
    }
  }, 60_000);
});
