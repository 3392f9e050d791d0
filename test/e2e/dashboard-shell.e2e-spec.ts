import {
  ensureDashboardBuild,
  openBrowser,
  startProduct,
  type BrowserSession,
  type RunningProduct,
} from '@email-core/testing';

/** The harness itself: the producer serves the production build, and a signed-out visit lands on sign-in cleanly. */
describe('dashboard shell (headless Chromium)', () => {
  let product: RunningProduct;
  let browser: BrowserSession;

  beforeAll(async () => {
    ensureDashboardBuild();
    product = await startProduct({ consumers: 0 });
    browser = await openBrowser({ baseUrl: product.api, name: 'dashboard-shell' });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await product?.stop();
  });

  it('serves the built dashboard and sends a signed-out visitor to sign-in without console errors', async () => {
    await browser.page.goto('/');
    await browser.page.waitForURL(/#\/signin$/);
    expect(await browser.page.title()).toBe('Email Core');
    await browser.shot('signed-out');
    browser.expectNoConsoleErrors();
  });
});
