import {
  apiCall,
  ensureDashboardBuild,
  linkOutlook,
  openBrowser,
  signUp,
  startProduct,
  waitFor,
  waitForAccountStatus,
  type BrowserSession,
  type RunningProduct,
  signInThroughUi,
} from '@email-core/testing';

const MAILBOX = 'hoarder@tailspin.example';
const MAILBOX_PASSWORD = 'hoarder-mailbox-password';
const PASSWORD = 'correct horse battery staple';
/**
 * Seeded mail spreads over the well-known folders; with no custom folders the inbox gets about 73 % of it. With this
 * seed, 13,800 messages put 10,0xx in the inbox (the test reads the exact count from the emulator).
 */
const SEEDED = 13_800;
const SEED = 10_000;
/** rows the test loads by scrolling: 20 pages of the list's 100 */
const LOAD_AT_LEAST = 2_000;
/** the DOM may hold the rows in view and a few either side, never a page's worth */
const MAX_ROWS_IN_DOM = 100;
/**
 * A long task is one main-thread task over 50 ms (Chromium's PerformanceObserver 'longtask'). Rendering a page of
 * rows must stay well under a frame budget a user would notice; 200 ms is generous for this 2-core machine, where
 * the API, the worker, Kafka, Redis and Postgres share the CPU with the browser.
 */
const MAX_LONG_TASK_MS = 200;

/** measures, in the page, long tasks and the longest gap between animation frames */
const PERF_PROBE = `
  window.__longTasks = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__longTasks.push({ start: e.startTime, duration: e.duration });
  }).observe({ type: 'longtask', buffered: true });
  window.__frames = { running: false, maxGap: 0, count: 0 };
  window.__startFrames = () => {
    const f = window.__frames;
    f.running = true; f.maxGap = 0; f.count = 0;
    let last = performance.now();
    const tick = (t) => {
      f.maxGap = Math.max(f.maxGap, t - last); f.count += 1; last = t;
      if (f.running) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  };
`;

const LIST = `document.querySelector('[aria-label="Messages"]')`;

interface MessagePage {
  items: { id: string; subject: string }[];
  nextCursor: string | null;
}

/**
 * A folder of 10,000 messages scrolls without freezing: thousands of rows load page by page as the user scrolls,
 * the DOM keeps only the rows in view, no main-thread task blocks for long, and the list still answers at the end
 * and after a jump far back.
 */
describe('dashboard: a folder of 10,000 messages (headless Chromium)', () => {
  let product: RunningProduct;
  let s: BrowserSession;
  let email: string;
  let token: string;
  let accountId: string;
  let inboxId: string;
  let inboxTotal: number;

  beforeAll(async () => {
    ensureDashboardBuild();
    product = await startProduct({ appEnv: { LOG_LEVEL: 'warn' } });
    const mailbox = await product.emulator.admin<{
      folders: { id: string; wellKnownName: string | null; totalItemCount: number }[];
    }>('POST', '/_emulator/mailboxes', {
      address: MAILBOX,
      displayName: 'Harper Hoarder',
      password: MAILBOX_PASSWORD,
      seed: { messages: SEEDED, folders: 0, seed: SEED },
    });
    const inbox = mailbox.folders.find((f) => f.wellKnownName === 'inbox')!;
    inboxTotal = inbox.totalItemCount;
    ({ email, token } = await signUp(product.api));
    await linkOutlook(product, token, MAILBOX, MAILBOX_PASSWORD);
    accountId = (await waitForAccountStatus(product.api, token, 'synced', { timeoutMs: 90_000 })).id;
    const folders = await apiCall<{
      items: { id: string; wellKnownName: string | null; totalCount: number }[];
    }>(product.api, 'GET', `/api/v1/accounts/${accountId}/folders`, { token });
    const mirrored = folders.body.items.find((f) => f.wellKnownName === 'inbox')!;
    inboxId = mirrored.id;
    expect(mirrored.totalCount).toBe(inboxTotal);

    s = await openBrowser({
      baseUrl: product.api,
      name: 'dashboard-scroll',
      viewport: { width: 1280, height: 800 },
    });
    await s.page.addInitScript(PERF_PROBE);
  }, 240_000);

  afterAll(async () => {
    await s?.close();
    await product?.stop();
  });

  /** the inbox as the API pages it, newest first: the order the list must show */
  async function inboxPrefix(count: number): Promise<{ id: string; subject: string }[]> {
    const all: { id: string; subject: string }[] = [];
    let cursor: string | null = null;
    while (all.length < count) {
      const query: string = `folderId=${encodeURIComponent(inboxId)}&limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = await apiCall<MessagePage>(
        product.api,
        'GET',
        `/api/v1/accounts/${accountId}/messages?${query}`,
        {
          token,
        },
      );
      all.push(...page.body.items);
      cursor = page.body.nextCursor;
      if (!cursor) break;
    }
    return all;
  }

  it('loads thousands of rows by scrolling with a bounded DOM and no long task', async () => {
    const { page } = s;
    expect(inboxTotal).toBeGreaterThanOrEqual(10_000);
    await signInThroughUi(page, email, PASSWORD);
    const list = page.locator('[aria-label="Messages"]');
    await list.getByRole('option').first().waitFor();
    await page.getByText(`${inboxTotal.toLocaleString('en-US')} messages`).waitFor();
    await s.shot('inbox-10k');

    // the probe sees long tasks (a deliberate 120 ms one), then measures from here: the user scrolling
    // (the busy loop runs as a task of the page's own event loop: a loop run directly by the test's evaluate call
    // is not always reported as a long task)
    await page.evaluate(
      'setTimeout(() => { const t = performance.now(); while (performance.now() - t < 120) {} }, 0)',
    );
    // predicates as functions, not strings: the dashboard's CSP forbids eval, which a string predicate needs
    await page.waitForFunction(() =>
      (globalThis as unknown as { __longTasks: { duration: number }[] }).__longTasks.some(
        (t) => t.duration >= 100,
      ),
    );
    const started = Date.now();
    await page.evaluate('window.__longTasks.length = 0; window.__startFrames()');
    const loaded = () => list.getAttribute('data-loaded-count').then(Number);
    let rowsInDom = 0;
    let scrolls = 0;
    while ((await loaded()) < LOAD_AT_LEAST) {
      const before = await loaded();
      // to the end of what is loaded, as a fast fling would: the next page is asked for on the way
      await page.evaluate(`${LIST}.scrollTop = ${LIST}.scrollHeight`);
      scrolls += 1;
      await waitFor(async () => ((await loaded()) > before ? true : undefined), {
        timeoutMs: 15_000,
        intervalMs: 50,
        what: 'the next page of the list',
      });
      rowsInDom = Math.max(rowsInDom, await list.getByRole('option').count());
    }
    // and a stretch of ordinary wheel scrolling through what is loaded
    await list.hover();
    for (let i = 0; i < 30; i += 1) await page.mouse.wheel(0, -600);
    rowsInDom = Math.max(rowsInDom, await list.getByRole('option').count());
    const total = await loaded();
    await s.shot('after-scrolling');

    // the newest rows came in order, and the list still answers: the last loaded row is shown with its subject
    const truth = await inboxPrefix(total);
    expect(truth).toHaveLength(total);
    await page.evaluate(`${LIST}.scrollTop = ${LIST}.scrollHeight`);
    const last = list.locator(`[role="option"][aria-posinset="${total}"]`);
    await last.waitFor();
    expect(await last.getAttribute('data-message-id')).toBe(truth[total - 1].id);
    await last.getByText(truth[total - 1].subject, { exact: true }).waitFor();
    expect(await last.isVisible()).toBe(true);
    rowsInDom = Math.max(rowsInDom, await list.getByRole('option').count());
    await s.shot('last-loaded-row');

    // a jump far back, to the middle of what is loaded: the rows there render at once
    const middle = Math.floor(total / 2);
    await page.evaluate(`${LIST}.scrollTop = ${(middle - 1) * 76}`);
    const mid = list.locator(`[role="option"][aria-posinset="${middle}"]`);
    await mid.waitFor();
    expect(await mid.getAttribute('data-message-id')).toBe(truth[middle - 1].id);
    rowsInDom = Math.max(rowsInDom, await list.getByRole('option').count());
    await page.evaluate(`${LIST}.scrollTop = 0`);
    await list.locator('[role="option"][aria-posinset="1"]').waitFor();
    expect(await list.locator('[role="option"][aria-posinset="1"]').getAttribute('data-message-id')).toBe(
      truth[0].id,
    );
    await s.shot('back-to-top');

    const perf = await page.evaluate<{
      longTasks: { start: number; duration: number }[];
      frames: { maxGap: number; count: number };
    }>('window.__frames.running = false, ({ longTasks: window.__longTasks, frames: window.__frames })');
    const longest = Math.max(0, ...perf.longTasks.map((t) => t.duration));
    console.log(
      `scrolled ${scrolls} times to load ${total} of ${inboxTotal} rows in ${Date.now() - started} ms; ` +
        `at most ${rowsInDom} rows in the DOM; ${perf.longTasks.length} long tasks, longest ${longest.toFixed(0)} ms; ` +
        `${perf.frames.count} frames, longest gap ${perf.frames.maxGap.toFixed(0)} ms`,
    );
    expect(total).toBeGreaterThanOrEqual(LOAD_AT_LEAST);
    expect(rowsInDom).toBeGreaterThan(5);
    expect(rowsInDom).toBeLessThan(MAX_ROWS_IN_DOM);
    expect(longest).toBeLessThan(MAX_LONG_TASK_MS);
    s.expectNoConsoleErrors();
  });
});
