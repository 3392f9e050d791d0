import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DEMO_FOLDERS, DEMO_MESSAGE_COUNT, fillDemoMailbox } from '@email-core/stack';
import {
  apiCall,
  devMailServer,
  ensureDashboardBuild,
  openBrowser,
  signUpThroughUi,
  startProduct,
  waitFor,
  type BrowserSession,
  type DevMailServer,
  type RunningProduct,
} from '@email-core/testing';

const USER_PASSWORD = 'correct horse battery staple';
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };

const hex = () => randomBytes(4).toString('hex');
const userAddress = (tag: string) => `${tag}-${hex()}@example.test`;

interface AccountBody {
  id: string;
  provider: string;
  email: string;
  status: string;
}

/** the page's storage as strings (the test's own compilation has no DOM types) */
type PageStorage = { localStorage: Record<string, string>; sessionStorage: Record<string, string> };
type PageDocument = { scrollingElement: { scrollWidth: number; clientWidth: number } };

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (libs/testing's global setup sets it)`);
  return v;
};

/**
 * "Connect an IMAP account" in the dashboard, in real headless Chromium against the real stack and the stack's
 * mail server (Dovecot + Postfix on 127.0.0.1, the project CA; the product runs with IMAP_ALLOW_PRIVATE_HOSTS and
 * IMAP_CA_FILE as libs/testing's startProduct sets them). Keyboard only, a wrong password is refused in words on
 * the IMAP half; the right settings link the mailbox, whose card says IMAP and syncs. The passwords never reach
 * the browser's storage. The product runs in development with a demo mailbox (DEMO_IMAP_*, filled by
 * fillDemoMailbox as `npm start` does), so "Use the demo mailbox" fills the form and links it, all its mail synced.
 */
describe('dashboard: Connect an IMAP account (headless Chromium, the stack mail server)', () => {
  let mail: DevMailServer;
  let product: RunningProduct;
  let s: BrowserSession;
  const imaps = env('MAIL_IMAPS');
  const submission = env('MAIL_SUBMISSION');
  const [imapsHost, imapsPort] = [
    imaps.slice(0, imaps.lastIndexOf(':')),
    imaps.slice(imaps.lastIndexOf(':') + 1),
  ];
  const submissionPort = submission.slice(submission.lastIndexOf(':') + 1);
  const demoAddress = `demo-${hex()}@email-core.localhost`;
  const firstUser = userAddress('connect-imap');

  /** the 422 of the wrong password this test types on purpose is the only console error allowed */
  const expectNoUnexpectedConsoleErrors = () => {
    const unexpected = s.consoleErrors.filter(
      (line) => !/status of 422 \(Unprocessable Entity\) \(.*\/api\/v1\/accounts\/imap\)$/.test(line),
    );
    expect(unexpected).toEqual([]);
  };

  /** nothing the page keeps in localStorage or sessionStorage holds the password */
  const expectNotInStorage = async (secret: string) => {
    const storage = await s.page.evaluate(() => {
      const g = globalThis as unknown as PageStorage;
      return JSON.stringify({ local: { ...g.localStorage }, session: { ...g.sessionStorage } });
    });
    expect(storage).not.toContain(secret);
    for (const cookie of await s.context.cookies()) expect(cookie.value).not.toContain(secret);
  };

  const isFocused = (label: string) =>
    s.page
      .getByLabel(label, { exact: true })
      .evaluate(
        (el) =>
          el === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement,
      );

  beforeAll(async () => {
    const server = devMailServer();
    if (!server) throw new Error('the stack mail server is not configured (MAIL_*, DEV_MAIL_PASSWORD)');
    mail = server;
    ensureDashboardBuild();
    // the demo mailbox, filled as `npm start` fills demo@email-core.localhost (a fresh address per run)
    const filled = await fillDemoMailbox({
      endpoint: imaps,
      security: 'tls',
      address: demoAddress,
      password: mail.password,
      ca: [readFileSync(mail.caFile, 'utf8')],
    });
    expect(filled).toMatchObject({ filled: true, appended: DEMO_MESSAGE_COUNT });
    product = await startProduct({
      appEnv: {
        NODE_ENV: 'development',
        DEMO_IMAP_EMAIL: demoAddress,
        DEMO_IMAP_PASSWORD: mail.password,
        DEMO_IMAP_URL: `imaps://${imaps}`,
        DEMO_SMTP_URL: `smtp://${submission}`,
      },
    });
    s = await openBrowser({ baseUrl: product.api, name: 'dashboard-connect-imap', viewport: DESKTOP });
  }, 240_000);

  afterAll(async () => {
    await s?.close();
    await product?.stop();
  });

  it('keyboard only: a wrong password is refused on the IMAP half, in words; the right one links the mailbox', async () => {
    const { page } = s;
    const mailbox = `imap-ui-${hex()}@email-core.localhost`;
    const user = firstUser;
    await signUpThroughUi(page, user, USER_PASSWORD);
    await page.goto('/#/accounts');
    await page.getByRole('heading', { name: 'No mailbox linked yet' }).waitFor();

    const open = page.getByRole('button', { name: 'Connect an IMAP account' });
    expect(await open.getAttribute('aria-expanded')).toBe('false');
    await open.focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Connect an IMAP account' }).waitFor();
    expect(await open.getAttribute('aria-expanded')).toBe('true');
    // the address field has the focus; the defaults are IMAP 993 TLS and SMTP 465 TLS
    expect(await isFocused('Email address')).toBe(true);
    expect(await page.getByLabel('IMAP port', { exact: true }).inputValue()).toBe('993');
    expect(await page.getByLabel('IMAP security', { exact: true }).inputValue()).toBe('tls');
    expect(await page.getByLabel('SMTP port', { exact: true }).inputValue()).toBe('465');
    expect(await page.getByLabel('SMTP security', { exact: true }).inputValue()).toBe('tls');
    for (const label of ['IMAP password']) {
      expect(await page.getByLabel(label, { exact: true }).getAttribute('type')).toBe('password');
      expect(await page.getByLabel(label, { exact: true }).getAttribute('autocomplete')).toBe('off');
    }

    const wrongPassword = `wrong-${hex()}`;
    await page.keyboard.type(mailbox);
    await page.keyboard.press('Tab'); // IMAP host
    await page.keyboard.type(imapsHost);
    await page.keyboard.press('Tab'); // IMAP port
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type(imapsPort);
    await page.keyboard.press('Tab'); // IMAP security: TLS stays
    await page.keyboard.press('Tab'); // IMAP user name: the address already
    expect(await isFocused('IMAP user name')).toBe(true);
    expect(await page.getByLabel('IMAP user name', { exact: true }).inputValue()).toBe(mailbox);
    await page.keyboard.press('Tab'); // IMAP password
    await page.keyboard.type(wrongPassword);
    await page.keyboard.press('Tab'); // SMTP host
    await page.keyboard.type(imapsHost);
    await page.keyboard.press('Tab'); // SMTP port
    await page.keyboard.press('Tab'); // SMTP security → STARTTLS: the port follows (587)
    expect(await isFocused('SMTP security')).toBe(true);
    await page.keyboard.press('ArrowDown');
    expect(await page.getByLabel('SMTP security', { exact: true }).inputValue()).toBe('starttls');
    expect(await page.getByLabel('SMTP port', { exact: true }).inputValue()).toBe('587');
    await page.keyboard.press('Shift+Tab'); // back to the SMTP port: the stack's submission port
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type(submissionPort);
    expect(await page.getByLabel('SMTP user name', { exact: true }).inputValue()).toBe(mailbox);
    expect(await page.getByLabel('Same password as IMAP', { exact: true }).isChecked()).toBe(true);
    await s.shot('filled-wrong-password');
    await page.keyboard.press('Enter'); // submits the form

    const alert = page.getByRole('region', { name: 'Connect an IMAP account' }).getByRole('alert');
    await alert.waitFor({ timeout: 30_000 });
    const said = await alert.textContent();
    expect(said).toContain('The IMAP server refused the password');
    expect(said).toContain('Nothing was linked');
    expect(await alert.getAttribute('data-error-code')).toBe('IMAP_AUTH_FAILED');
    // the IMAP half is marked, the SMTP half is not; the focus is on the first marked field
    expect(await page.getByLabel('IMAP password', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByLabel('SMTP host', { exact: true }).getAttribute('aria-invalid')).toBeNull();
    expect(await page.locator('fieldset[data-server="imap"]').getAttribute('class')).toContain('failed');
    await waitFor(async () => ((await isFocused('IMAP password')) ? true : undefined), {
      timeoutMs: 2000,
      what: 'the focus on the IMAP password',
    });
    await s.shot('imap-password-refused');
    await expectNotInStorage(wrongPassword);

    // the right password (typed over the wrong one, where the focus already is), Enter again
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type(mail.password);
    await page.keyboard.press('Enter');
    const card = page.locator('[data-testid="account-card"][data-provider="imap"]');
    await card.waitFor({ timeout: 30_000 });
    await page.getByRole('heading', { name: 'Connect an IMAP account' }).waitFor({ state: 'detached' });
    expect(await card.getByTestId('account-provider').textContent()).toContain('IMAP');
    expect(await card.textContent()).toContain(mailbox);
    await s.shot('imap-linked');

    // the API agrees, and the first sync completes
    const token = (
      await apiCall<{ accessToken: string }>(product.api, 'POST', '/api/v1/auth/signin', {
        body: { email: user, password: USER_PASSWORD },
      })
    ).body.accessToken;
    const accounts = await apiCall<{ items: AccountBody[] }>(product.api, 'GET', '/api/v1/accounts', {
      token,
    });
    expect(accounts.body.items).toEqual([expect.objectContaining({ provider: 'imap', email: mailbox })]);
    await page.locator('[data-testid="account-card"][data-status="synced"]').waitFor({ timeout: 90_000 });
    await s.shot('imap-synced');

    await expectNotInStorage(mail.password);
    await expectNotInStorage(wrongPassword);
    expectNoUnexpectedConsoleErrors();
  }, 180_000);

  it('in development, "Use the demo mailbox" fills the form with the demo IMAP mailbox and links it, all of it synced', async () => {
    const { page } = s;
    // the producer offers the demo settings (development, DEMO_IMAP_* set)
    const token = (
      await apiCall<{ accessToken: string }>(product.api, 'POST', '/api/v1/auth/signin', {
        body: { email: firstUser, password: USER_PASSWORD },
      })
    ).body.accessToken;
    const offered = await apiCall<{ email: string }>(product.api, 'GET', '/api/v1/dev/demo-imap', { token });
    expect([offered.status, offered.body]).toEqual([200, expect.objectContaining({ email: demoAddress })]);

    // the same user (signed in since the first test) adds a second IMAP mailbox
    await page.goto('/#/accounts');
    await page.getByRole('button', { name: 'Connect an IMAP account' }).click();
    const demo = page.getByRole('button', { name: 'Use the demo mailbox' });
    await demo.waitFor();
    await demo.click();
    expect(await page.getByLabel('Email address', { exact: true }).inputValue()).toBe(demoAddress);
    expect(await page.getByLabel('IMAP host', { exact: true }).inputValue()).toBe(imapsHost);
    expect(await page.getByLabel('IMAP port', { exact: true }).inputValue()).toBe(imapsPort);
    expect(await page.getByLabel('IMAP security', { exact: true }).inputValue()).toBe('tls');
    expect(await page.getByLabel('SMTP port', { exact: true }).inputValue()).toBe(submissionPort);
    expect(await page.getByLabel('SMTP security', { exact: true }).inputValue()).toBe('starttls');
    expect(await page.getByLabel('IMAP password', { exact: true }).inputValue()).toBe(mail.password);
    await s.shot('demo-filled');
    await expectNotInStorage(mail.password);

    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    const card = page.locator('[data-testid="account-card"][data-provider="imap"]', { hasText: demoAddress });
    await card.waitFor({ timeout: 30_000 });
    // every demo message in every folder ends up mirrored: the card counts them
    await page
      .locator('[data-testid="account-card"][data-status="synced"]', { hasText: demoAddress })
      .waitFor({ timeout: 120_000 });
    // the card first says "N messages" (the sync's own count), then "N messages in F folders" once it has read the
    // mirror's count, F being 0 until the folder list has loaded: wait for that list, and read F from the same text
    const total = DEMO_MESSAGE_COUNT.toLocaleString('en-US');
    const folders = await waitFor(
      async () => {
        const f = Number(
          new RegExp(`${total} messages in (\\d+) folders`).exec((await card.textContent()) ?? '')?.[1],
        );
        return f > 0 ? f : undefined;
      },
      { timeoutMs: 30_000, what: `${DEMO_MESSAGE_COUNT} messages in their folders on the card` },
    );
    expect(folders).toBeGreaterThanOrEqual(DEMO_FOLDERS.length);
    await s.shot('demo-synced');
    await expectNotInStorage(mail.password);
    expectNoUnexpectedConsoleErrors();
  }, 240_000);

  it('fits a phone: the form without horizontal scrolling, errors on the fields', async () => {
    const { page } = s;
    await page.setViewportSize(PHONE);
    await page.goto('/#/accounts');
    await page.getByRole('button', { name: 'Connect an IMAP account' }).click();
    await page.getByRole('heading', { name: 'Connect an IMAP account' }).waitFor();
    // a host with a scheme and an empty password: told on the fields before anything is sent
    await page.getByLabel('Email address', { exact: true }).fill('phone@example.test');
    await page.getByLabel('IMAP host', { exact: true }).fill('https://imap.example.test/');
    await page.getByLabel('SMTP host', { exact: true }).fill('smtp.example.test');
    await page.getByRole('button', { name: 'Connect', exact: true }).click();
    await page.getByRole('region', { name: 'Connect an IMAP account' }).getByRole('alert').waitFor();
    expect(await page.getByLabel('IMAP host', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByLabel('IMAP password', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByLabel('SMTP host', { exact: true }).getAttribute('aria-invalid')).toBeNull();
    const hostError = await page.getByLabel('IMAP host', { exact: true }).getAttribute('aria-describedby');
    expect(await page.locator(`[id="${hostError}"]`).textContent()).toContain('host name or IP address only');
    const { scrollWidth, clientWidth } = await page.evaluate(() => {
      const d = (globalThis as unknown as { document: PageDocument }).document.scrollingElement;
      return { scrollWidth: d.scrollWidth, clientWidth: d.clientWidth };
    });
    expect(scrollWidth).toBeLessThanOrEqual(clientWidth);
    await s.shot('phone-form-errors');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('heading', { name: 'Connect an IMAP account' }).waitFor({ state: 'detached' });
    await page.setViewportSize(DESKTOP);
    expectNoUnexpectedConsoleErrors();
  });
});
