import { randomBytes } from 'node:crypto';
import {
  apiCall,
  ensureDashboardBuild,
  openBrowser,
  startProduct,
  type BrowserSession,
  type RunningProduct,
} from '@email-core/testing';

interface ExportedFolder {
  id: string;
  wellKnownName: string | null;
  totalItemCount: number;
}
interface ExportedMailbox {
  folders: ExportedFolder[];
  messages: { id: string; subject: string; parentFolderId: string; receivedDateTime: string }[];
}
interface AccountBody {
  id: string;
  email: string;
  status: string;
}

const SEEDED = 500;
const MAILBOX = `olivia-${randomBytes(3).toString('hex')}@onboarding.example`;
const MAILBOX_PASSWORD = 'olivia-mailbox-password';
const USER_EMAIL = `onboarding-${randomBytes(3).toString('hex')}@example.test`;
const USER_PASSWORD = 'correct horse battery staple';

/**
 * Records, in every document the tab loads, each value the sync progress bar shows and each desktop notification
 * the page creates: the test reads them back to prove the bar moved below 100% and a notification went out.
 */
const RECORDER = `
(() => {
  const seen = (window.__progressSeen = []);
  const record = () => {
    for (const bar of document.querySelectorAll('[role="progressbar"]')) {
      const v = bar.getAttribute('aria-valuenow');
      if (v !== null && seen[seen.length - 1] !== Number(v)) seen.push(Number(v));
    }
  };
  new MutationObserver(record).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuenow'] });
  window.__notifications = [];
  const Real = window.Notification;
  if (Real) {
    const Spy = function (title, options) {
      window.__notifications.push({ title, body: options && options.body });
      return new Real(title, options);
    };
    Object.defineProperty(Spy, 'permission', { get: () => Real.permission });
    Spy.requestPermission = (...args) => Real.requestPermission(...args);
    Spy.prototype = Real.prototype;
    window.Notification = Spy;
  }
})();
`;

/**
 * Onboarding in real headless Chromium against the real stack and the emulator: sign up through the dashboard,
 * connect Outlook through the emulator's own sign-in page, watch the first sync's progress bar run to completion,
 * see the inbox in the mail view, and see a mail delivered afterwards appear live with a toast.
 */
describe('dashboard onboarding (headless Chromium)', () => {
  let product: RunningProduct;
  let s: BrowserSession;
  let truth: ExportedMailbox;
  let inbox: ExportedFolder;
  let token: string;

  beforeAll(async () => {
    ensureDashboardBuild();
    product = await startProduct({
      isolated: true,
      // small pages and a report per page, so a few hundred messages make a progress bar worth watching
      appEnv: { SYNC_PAGE_SIZE: '20', SYNC_PROGRESS_EVERY_PAGES: '1', SYNC_FOLDER_PARALLELISM: '2' },
    });
    await product.emulator.admin('POST', '/_emulator/mailboxes', {
      address: MAILBOX,
      displayName: 'Olivia Onboarding',
      password: MAILBOX_PASSWORD,
      seed: { messages: SEEDED, folders: 2, seed: 4242 },
    });
    truth = await product.emulator.admin<ExportedMailbox>(
      'GET',
      `/_emulator/mailboxes/${MAILBOX}/export?bodies=false`,
    );
    inbox = truth.folders.find((f) => f.wellKnownName === 'inbox')!;
    // Graph answers a little slowly, as over a real network: the first sync takes a few seconds
    await product.emulator.admin('POST', '/_emulator/faults', { latencyMs: 250 });
    s = await openBrowser({ baseUrl: product.api, name: 'dashboard-onboarding' });
    await s.page.addInitScript(RECORDER);
  }, 240_000);

  afterAll(async () => {
    await s?.close();
    await product?.stop();
  });

  it('signs up through the dashboard and lands on an empty Accounts page', async () => {
    const { page } = s;
    expect(truth.messages).toHaveLength(SEEDED);
    expect(inbox.totalItemCount).toBeGreaterThan(200);

    await page.goto('/#/signin');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await s.shot('sign-in');
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByRole('heading', { name: 'Create your account' }).waitFor();
    await page.getByLabel('Email').fill(USER_EMAIL);
    await page.getByLabel('Password').fill(USER_PASSWORD);
    await s.shot('sign-up-filled');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL(/#\/mail/);
    await page.getByRole('banner').getByText(USER_EMAIL).waitFor();
    await s.shot('signed-up');

    // the API knows the user: the same credentials sign in
    const signIn = await apiCall<{ accessToken: string }>(product.api, 'POST', '/api/v1/auth/signin', {
      body: { email: USER_EMAIL, password: USER_PASSWORD },
    });
    expect(signIn.status).toBe(200);
    token = signIn.body.accessToken;

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Accounts' }).click();
    await page.getByRole('heading', { name: 'No mailbox linked yet' }).waitFor();
    await s.shot('accounts-empty');
    s.expectNoConsoleErrors();
  });

  it("connects Outlook through the emulator's sign-in page and watches the first sync complete", async () => {
    const { page } = s;
    await page.getByRole('button', { name: 'Connect Outlook' }).click();
    await page.waitForURL((url) => url.origin === product.emulator.origin);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await s.shot('emulator-sign-in');
    await page.getByLabel('Email').fill(MAILBOX);
    await page.getByLabel('Password').fill(MAILBOX_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();

    // back on the dashboard, the linked mailbox is announced and highlighted
    await page.waitForURL(
      (url) => url.origin === new URL(product.api).origin && url.hash.startsWith('#/accounts'),
    );
    const card = page.getByTestId('account-card').filter({ hasText: MAILBOX });
    await card.waitFor();
    await page.getByTestId('toast').filter({ hasText: 'Mailbox linked' }).waitFor();
    expect(await card.getAttribute('class')).toContain('accounts-card-linked');
    expect(page.url()).not.toContain('linked=');
    await s.shot('linked');

    // the progress bar moves (a value below 100% was on screen), then the account is synced
    await card.getByRole('progressbar').waitFor({ timeout: 30_000 });
    await page.waitForFunction(
      () =>
        ((globalThis as unknown as { __progressSeen: number[] }).__progressSeen ?? []).some((v) => v < 100),
      undefined,
      { timeout: 60_000 },
    );
    await s.shot('syncing');
    await page.locator('[data-testid="account-card"][data-status="synced"]').waitFor({ timeout: 120_000 });
    const seen = await page.evaluate(
      () => (globalThis as unknown as { __progressSeen: number[] }).__progressSeen,
    );
    expect(seen.some((v) => v > 0 && v < 100)).toBe(true);
    // the bar only grows within one sync
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);

    // the mirror holds every message of the mailbox, and the card says so
    const total = truth.folders.reduce((sum, f) => sum + f.totalItemCount, 0);
    expect(total).toBe(SEEDED);
    await card.getByText(`${SEEDED} messages in`).waitFor();
    await card.getByText('Synced', { exact: true }).waitFor();
    await s.shot('synced');

    const accounts = await apiCall<{ items: AccountBody[] }>(product.api, 'GET', '/api/v1/accounts', {
      token,
    });
    expect(accounts.body.items).toHaveLength(1);
    expect(accounts.body.items[0]).toMatchObject({ email: MAILBOX, status: 'synced' });
    s.expectNoConsoleErrors();
  });
});
