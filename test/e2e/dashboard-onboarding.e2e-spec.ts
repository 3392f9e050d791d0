import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { io, type Socket } from 'socket.io-client';
import { REALTIME_PATH, type DomainEvent } from '@email-core/contracts';
import {
  apiCall,
  ensureDashboardBuild,
  openBrowser,
  startProduct,
  waitFor,
  waitForAccountStatus,
  waitForCatchUpRound,
  type BrowserSession,
  type RunningProduct,
} from '@email-core/testing';

interface ExportedFolder {
  id: string;
  wellKnownName: string | null;
  totalItemCount: number;
  unreadItemCount: number;
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
 * Records, in every document the tab loads, each value the sync progress bar shows, each message count it writes
 * beside it, and each desktop notification the page creates: the test reads them back to prove the bar moved below
 * 100% against the mailbox's total and a notification went out.
 */
const RECORDER = `
(() => {
  const seen = (window.__progressSeen = []);
  const texts = (window.__progressTexts = []);
  const record = () => {
    for (const bar of document.querySelectorAll('[role="progressbar"]')) {
      const v = bar.getAttribute('aria-valuenow');
      if (v !== null && seen[seen.length - 1] !== Number(v)) seen.push(Number(v));
    }
    for (const el of document.querySelectorAll('[data-testid="sync-messages"]')) {
      const t = el.textContent;
      if (t && texts[texts.length - 1] !== t) texts.push(t);
    }
  };
  new MutationObserver(record).observe(document, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['aria-valuenow'] });
  window.__notifications = [];
  const Real = window.Notification;
  if (Real) {
    const Spy = function (title, options) {
      window.__notifications.push({ title, body: options && options.body });
      return new Real(title, options);
    };
    Object.defineProperty(Spy, 'permission', { get: () => Real.permission });
    window.__permissionRequests = 0;
    Spy.requestPermission = (...args) => {
      window.__permissionRequests += 1;
      return Real.requestPermission(...args);
    };
    Spy.prototype = Real.prototype;
    window.Notification = Spy;
  }
})();
`;

/** the list element as the page sees it (the test's own compilation has no DOM types) */
type Scrollable = { scrollTo(to: { top: number }): void; scrollHeight: number };

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
  let accountId: string;
  /** the user's own socket, beside the browser's: what the server announced, to compare the UI with */
  let socket: Socket | undefined;
  const events: DomainEvent[] = [];
  const eventsOf = <T extends DomainEvent['type']>(type: T) =>
    events.filter((e): e is Extract<DomainEvent, { type: T }> => e.type === type);

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
    socket?.disconnect();
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
    await page.waitForLoadState('networkidle');
    await s.shot('signed-up');

    // the API knows the user: the same credentials sign in
    const signIn = await apiCall<{ accessToken: string }>(product.api, 'POST', '/api/v1/auth/signin', {
      body: { email: USER_EMAIL, password: USER_PASSWORD },
    });
    expect(signIn.status).toBe(200);
    token = signIn.body.accessToken;
    socket = await new Promise<Socket>((resolve, reject) => {
      const client = io(product.api, { path: REALTIME_PATH, auth: { token }, transports: ['websocket'] });
      client.onAny((_name: string, event: DomainEvent) => events.push(event));
      client.once('connect', () => resolve(client));
      client.once('connect_error', reject);
    });

    // a signed-in visitor of the sign-in page goes on to the mail (the session survives the reload)
    await page.goto('/#/signin');
    await page.waitForURL(/#\/mail/);
    await page.getByRole('banner').getByText(USER_EMAIL).waitFor();

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Accounts' }).click();
    await page.getByRole('heading', { name: 'No mailbox linked yet' }).waitFor();
    await s.shot('accounts-empty');
    s.expectNoConsoleErrors();
  });

  it('a sign-in cancelled at Microsoft comes back to Accounts with a clear message, and links nothing', async () => {
    const { page } = s;
    await page.getByRole('button', { name: 'Connect Outlook' }).click();
    await page.waitForURL((url) => url.origin === product.emulator.origin);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByRole('button', { name: 'Cancel' }).click();

    // the callback answers the refusal with a redirect to the dashboard, which explains it
    await page.waitForURL(
      (url) => url.origin === new URL(product.api).origin && url.hash.startsWith('#/accounts'),
    );
    const alert = page.getByTestId('link-error');
    await alert.waitFor();
    expect(await alert.getAttribute('role')).toBe('alert');
    expect(await alert.textContent()).toContain('Access to the mailbox was not granted at Microsoft');
    await page.getByRole('heading', { name: 'No mailbox linked yet' }).waitFor();
    expect(page.url()).not.toContain('linkError');
    await s.shot('link-cancelled');
    const accounts = await apiCall<{ items: AccountBody[] }>(product.api, 'GET', '/api/v1/accounts', {
      token,
    });
    expect(accounts.body.items).toEqual([]);

    await alert.getByRole('button', { name: 'Dismiss' }).click();
    await alert.waitFor({ state: 'detached' });
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

    // The first sync completes; the subscription made after it asks for one catch-up round (changes made between
    // the first sync's delta and the subscription), and the mailbox stays synced.
    const completed = await waitFor(
      () => {
        const done = eventsOf('sync.completed');
        return Promise.resolve(done.length >= 1 ? done : undefined);
      },
      { timeoutMs: 120_000, what: 'the first sync' },
    );
    accountId = completed[0].accountId;
    expect(completed[0]).toMatchObject({ messages: SEEDED });
    await waitForCatchUpRound(product, accountId, 120_000);
    await waitForAccountStatus(product.api, token, 'synced', { accountId });
    await page.locator('[data-testid="account-card"][data-status="synced"]').waitFor({ timeout: 30_000 });

    const seen = await page.evaluate(
      () => (globalThis as unknown as { __progressSeen: number[] }).__progressSeen,
    );
    expect(seen.some((v) => v > 0 && v < 100)).toBe(true);
    // within the first sync the bar only grows, up to 100%
    const firstSync = seen.slice(0, seen.indexOf(100) + 1);
    expect(firstSync.at(-1)).toBe(100);
    expect([...firstSync].sort((a, b) => a - b)).toEqual(firstSync);
    // and it showed what the server reported: messages synced of the mailbox's total (Graph's folder totals)
    const progress = eventsOf('sync.progress').filter((e) => e.accountId === accountId);
    expect(progress.length).toBeGreaterThan(3);
    expect(progress[0].messagesTotal).toBe(SEEDED);
    const shares = new Set([
      100,
      ...progress.map((e) => Math.min(100, Math.round((e.messagesSynced / e.messagesTotal) * 100))),
    ]);
    expect(firstSync.filter((v) => !shares.has(v))).toEqual([]);
    const texts = await page.evaluate(
      () => (globalThis as unknown as { __progressTexts: string[] }).__progressTexts,
    );
    const partial = texts.filter((t) => /^\d+ \/ 500 messages$/.test(t) && t !== '500 / 500 messages');
    expect(partial.length).toBeGreaterThan(0);
    for (const t of partial) {
      const synced = Number(t.split(' ')[0]);
      expect(progress.some((e) => e.messagesSynced === synced)).toBe(true);
    }

    // the mirror holds every message of the mailbox, and the card says so
    const total = truth.folders.reduce((sum, f) => sum + f.totalItemCount, 0);
    expect(total).toBe(SEEDED);
    await card.getByText(`${SEEDED} messages in`).waitFor();
    await card.getByText('Synced', { exact: true }).waitFor();
    await s.shot('synced');

    const accounts = await apiCall<{ items: AccountBody[] }>(product.api, 'GET', '/api/v1/accounts', {
      token,
    });
    expect(accounts.body.items).toEqual([
      expect.objectContaining({ id: accountId, email: MAILBOX, status: 'synced' }),
    ]);

    // desktop notifications are offered from a click, never asked for on load
    const permissionRequests = () =>
      page.evaluate(() => (globalThis as unknown as { __permissionRequests: number }).__permissionRequests);
    const enable = page.getByRole('button', { name: 'Enable desktop notifications' });
    await enable.waitFor();
    expect(await permissionRequests()).toBe(0);
    await enable.click();
    await waitFor(async () => ((await permissionRequests()) === 1 ? true : undefined), {
      timeoutMs: 5000,
      what: 'the permission request',
    });
    // the browser's answer: headless Chromium has no prompt, so the test grants it as the user would
    await s.context.grantPermissions(['notifications'], { origin: new URL(product.api).origin });
    await page.getByText('On: new mail shows a desktop notification.').waitFor();
    await s.shot('notifications-on');

    // usable at phone width: nothing sticks out sideways
    await page.setViewportSize({ width: 360, height: 740 });
    await s.shot('accounts-phone');
    const overflow = await page.evaluate(() => {
      const root = (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } })
        .document;
      return root.documentElement.scrollWidth;
    });
    expect(overflow).toBeLessThanOrEqual(360);
    await page.setViewportSize({ width: 1400, height: 900 });
    s.expectNoConsoleErrors();
  });

  it('opens Mail and sees the whole inbox, as many messages as Outlook holds', async () => {
    const { page } = s;
    if (!accountId) throw new Error('needs the account linked by the previous test');
    const inboxMail = truth.messages
      .filter((m) => m.parentFolderId === inbox.id)
      .sort((a, b) => b.receivedDateTime.localeCompare(a.receivedDateTime));
    expect(inboxMail).toHaveLength(inbox.totalItemCount);

    await page.getByTestId('account-card').getByRole('link', { name: 'Open mail' }).click();
    await page.waitForURL(/#\/mail\//);
    const list = page.locator('[aria-label="Messages"]');
    await list.getByText(inboxMail[0].subject, { exact: true }).first().waitFor({ timeout: 30_000 });
    // the folder pane counts the inbox's unread mail as Outlook does
    const inboxLink = page.getByRole('navigation', { name: 'Folders' }).getByRole('link', { name: /Inbox/ });
    await inboxLink.getByLabel(`${inbox.unreadItemCount} unread`).waitFor();
    await s.shot('mail-inbox');

    // scrolling to the end loads every page: the list ends with the inbox's count of messages
    const lastSize = () =>
      list
        .getByRole('option')
        .last()
        .getAttribute('aria-setsize')
        .then((v) => Number(v));
    await waitFor(
      async () => {
        await list.evaluate((el) =>
          (el as unknown as Scrollable).scrollTo({ top: (el as unknown as Scrollable).scrollHeight }),
        );
        const size = await lastSize();
        return size > 0 ? size : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 400, what: 'the whole inbox to load' },
    );
    expect(await lastSize()).toBe(inbox.totalItemCount);
    const oldest = inboxMail[inboxMail.length - 1];
    await list.getByText(oldest.subject, { exact: true }).first().waitFor();
    await s.shot('mail-inbox-end');
    await list.evaluate((el) => (el as unknown as Scrollable).scrollTo({ top: 0 }));
    s.expectNoConsoleErrors();
  });

  it('shows a mail delivered now in the open list without a reload, with a toast and a desktop notification', async () => {
    const { page } = s;
    if (!accountId) throw new Error('needs the account linked by the previous test');
    await page.evaluate(() => {
      (globalThis as unknown as { __sameDocument: boolean }).__sameDocument = true;
    });
    const subject = `Welcome aboard ${randomBytes(3).toString('hex')}`;
    const list = page.locator('[aria-label="Messages"]');
    const toast = page.getByTestId('toast').filter({ hasText: 'New mail' }).filter({ hasText: subject });
    const toastSeen = toast.waitFor({ timeout: 60_000 });

    await product.emulator.admin('POST', `/_emulator/mailboxes/${MAILBOX}/messages`, {
      subject,
      from: { emailAddress: { name: 'Nadia Newmail', address: 'nadia@sender.example' } },
      body: { contentType: 'text', content: 'Glad to have you with us.' },
    });

    await list.getByText(subject, { exact: true }).waitFor({ timeout: 60_000 });
    await toastSeen;
    await expect(toast.textContent()).resolves.toContain('Nadia Newmail');
    await s.shot('new-mail-live');

    // no reload happened: the same document is still on screen
    expect(
      await page.evaluate(() => (globalThis as unknown as { __sameDocument?: boolean }).__sameDocument),
    ).toBe(true);
    // the desktop notification the user allowed went out
    const notifications = await page.evaluate(
      () =>
        (globalThis as unknown as { __notifications: { title: string; body?: string }[] }).__notifications,
    );
    expect(notifications).toEqual([{ title: 'New mail', body: `Nadia Newmail: ${subject}` }]);
    // the inbox counts it, in the UI and in the API
    const inboxLink = page.getByRole('navigation', { name: 'Folders' }).getByRole('link', { name: /Inbox/ });
    await inboxLink.getByLabel(`${inbox.unreadItemCount + 1} unread`).waitFor();
    const folders = await apiCall<{ items: { wellKnownName: string | null; totalCount: number }[] }>(
      product.api,
      'GET',
      `/api/v1/accounts/${accountId}/folders`,
      { token },
    );
    expect(folders.body.items.find((f) => f.wellKnownName === 'inbox')?.totalCount).toBe(
      inbox.totalItemCount + 1,
    );
    s.expectNoConsoleErrors();
  });

  it('shows a mailbox Microsoft no longer accepts as needing re-authorization, and reconnects it', async () => {
    const { page } = s;
    if (!accountId) throw new Error('needs the account linked by the previous test');
    await product.emulator.admin('POST', '/_emulator/faults', { revokeRefreshTokens: MAILBOX, latencyMs: 0 });
    // the stored access token is due, so the next Graph call must refresh (a fresh consumer has no copy in memory)
    const db = new Client({ connectionString: product.databaseUrl });
    await db.connect();
    try {
      await db.query(
        `UPDATE mail_accounts SET access_token_expires_at = now() - interval '1 hour' WHERE id = $1`,
        [accountId],
      );
    } finally {
      await db.end();
    }
    await product.restartConsumer();

    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Accounts' }).click();
    const card = page.getByTestId('account-card').filter({ hasText: MAILBOX });
    await card.waitFor();
    expect(await card.getAttribute('data-status')).toBe('synced');
    const statusEventsBefore = eventsOf('account.status').length;
    await card.getByRole('button', { name: `Resync ${MAILBOX}` }).click();
    await page.getByTestId('toast').filter({ hasText: 'Resync requested' }).waitFor();
    // The worker announces it live (Microsoft's refusal reaches the sync as the token vault's own error): the open
    // page turns the card without a reload.
    const announced = await waitFor(
      () =>
        Promise.resolve(
          eventsOf('account.status')
            .slice(statusEventsBefore)
            .find((e) => e.accountId === accountId && e.status === 'reauth_required'),
        ),
      { timeoutMs: 60_000, what: 'the live account.status reauth_required' },
    );
    expect(announced.reason).toMatch(/invalid_grant/);
    await page
      .locator('[data-testid="account-card"][data-status="reauth_required"]')
      .waitFor({ timeout: 30_000 });
    await card.getByText('Needs re-authorization').waitFor();
    expect(
      await page.evaluate(() => (globalThis as unknown as { __sameDocument?: boolean }).__sameDocument),
    ).toBe(true);
    await waitForAccountStatus(product.api, token, 'reauth_required', { accountId });
    await s.shot('reauth-required');

    const syncsBefore = eventsOf('sync.completed').length;
    await card.getByRole('button', { name: 'Reconnect' }).click();
    await page.waitForURL((url) => url.origin === product.emulator.origin);
    await page.getByLabel('Email').fill(MAILBOX);
    await page.getByLabel('Password').fill(MAILBOX_PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL(
      (url) => url.origin === new URL(product.api).origin && url.hash.startsWith('#/accounts'),
    );
    await page.getByTestId('toast').filter({ hasText: 'Mailbox linked' }).waitFor();
    // linking again syncs the mailbox again (from its stored delta links)
    await waitFor(() => Promise.resolve(eventsOf('sync.completed').length > syncsBefore ? true : undefined), {
      timeoutMs: 120_000,
      what: 'the sync after reconnecting',
    });
    await waitForAccountStatus(product.api, token, 'synced', { accountId });
    await page.locator('[data-testid="account-card"][data-status="synced"]').waitFor({ timeout: 30_000 });
    await card.getByRole('button', { name: 'Reconnect' }).waitFor({ state: 'detached' });
    await s.shot('reconnected');

    // the same account, re-authorized, with its mail intact
    const accounts = await apiCall<{ items: AccountBody[] }>(product.api, 'GET', '/api/v1/accounts', {
      token,
    });
    expect(accounts.body.items).toEqual([expect.objectContaining({ id: accountId, status: 'synced' })]);
    s.expectNoConsoleErrors();
  }, 180_000);
});
