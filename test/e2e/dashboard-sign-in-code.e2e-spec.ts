import { randomBytes } from 'node:crypto';
import {
  apiCall,
  codeInMail,
  devMailServer,
  ensureDashboardBuild,
  openBrowser,
  signUpThroughUi,
  startProduct,
  waitForMail,
  type BrowserSession,
  type DevMailServer,
  type RunningProduct,
} from '@email-core/testing';

const PASSWORD = 'correct horse battery staple';
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };

interface Me {
  email: string;
  emailVerifiedAt: string | null;
}

const address = (tag: string) => `${tag}-${randomBytes(5).toString('hex')}@example.test`;
const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

/** what a paste needs of the page (the test's own compilation has no DOM types) */
type PasteTarget = { focus(): void; dispatchEvent(event: unknown): boolean };
type PasteGlobals = {
  DataTransfer: new () => { setData(type: string, value: string): void };
  ClipboardEvent: new (type: string, init: Record<string, unknown>) => unknown;
};
type PageStorage = { localStorage: Record<string, string>; sessionStorage: Record<string, string> };
type PageFetch = {
  fetch(url: string, init?: Record<string, unknown>): Promise<{ json(): Promise<unknown> }>;
};

/**
 * Sign-in by emailed code and "verify your address" in the dashboard, in real headless Chromium against the real
 * stack and the stack's mail server: the code is requested through the UI, the mail read from the Dovecot mailbox
 * over IMAP, and the code typed into the page, which then holds a session exactly like a password sign-in (token in
 * memory, refresh cookie; a reload stays signed in). A password sign-up shows the banner until its mailed code is
 * entered; wrong codes show the CODE_INVALID message.
 */
describe('dashboard: sign-in by emailed code and address verification (headless Chromium, IMAP)', () => {
  let mail: DevMailServer;
  let product: RunningProduct;
  let s: BrowserSession;

  /** the 400s of the wrong codes this test types on purpose are the only console errors allowed */
  const expectNoUnexpectedConsoleErrors = () => {
    const unexpected = s.consoleErrors.filter(
      (line) =>
        !/status of 400 \(Bad Request\) \(.*\/api\/v1\/auth\/(code\/verify|verify-email)\)$/.test(line),
    );
    expect(unexpected).toEqual([]);
  };

  /** `GET /me` from inside the page, with a token the page's own refresh cookie buys (the cookie rotates) */
  const meInPage = () =>
    s.page.evaluate(async () => {
      const g = globalThis as unknown as PageFetch;
      const session = (await (await g.fetch('/api/v1/auth/refresh', { method: 'POST' })).json()) as {
        accessToken: string;
      };
      const me = await g.fetch('/api/v1/me', { headers: { authorization: `Bearer ${session.accessToken}` } });
      return (await me.json()) as Me;
    });

  /** a paste into `field`, as the clipboard delivers it */
  const paste = (field: ReturnType<BrowserSession['page']['getByLabel']>, text: string) =>
    field.evaluate((el, pasted) => {
      const g = globalThis as unknown as PasteGlobals;
      const data = new g.DataTransfer();
      data.setData('text/plain', pasted);
      const target = el as unknown as PasteTarget;
      target.focus();
      target.dispatchEvent(
        new g.ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }),
      );
    }, text);

  /** reloads, and waits until the page has read `GET /me` (and rendered what it says) */
  const reloadSignedIn = async () => {
    const meRead = s.page.waitForResponse((r) => r.url().endsWith('/api/v1/me') && r.status() === 200);
    await s.page.reload();
    await meRead;
    await s.page.getByRole('button', { name: 'Sign out' }).waitFor();
    await s.page.waitForTimeout(300);
  };

  beforeAll(async () => {
    const server = devMailServer();
    if (!server)
      throw new Error(
        'no dev mail server: run `npm run stack:up` (MAIL_SUBMISSION, MAIL_IMAP in .stack/endpoints.env, DEV_MAIL_PASSWORD)',
      );
    mail = server;
    ensureDashboardBuild();
    // isolated: no other test file's consumer takes its sealed codes
    product = await startProduct({
      isolated: true,
      appEnv: { LOG_LEVEL: 'warn', SIGN_IN_CODE_REQUESTS_PER_IP: '1000' },
    });
    s = await openBrowser({ baseUrl: product.api, name: 'dashboard-sign-in-code', viewport: PHONE });
  }, 240_000);

  afterAll(async () => {
    await s?.close();
    await product?.stop();
  });

  it('requests a code on the sign-in page, types the code read over IMAP, and lands signed in (phone width)', async () => {
    const { page } = s;
    const email = address('dash-code');

    await page.goto('/#/signin');
    await page.getByRole('button', { name: 'Email me a sign-in code' }).click();
    await page.getByRole('heading', { name: 'Sign in with a code' }).waitFor();
    await page.getByLabel('Email').fill(email);
    await s.shot('code-request');
    await page.getByRole('button', { name: 'Send code' }).click();

    const field = page.getByLabel('Sign-in code');
    await field.waitFor();
    expect(await field.getAttribute('autocomplete')).toBe('one-time-code');
    expect(await field.getAttribute('inputmode')).toBe('numeric');
    const sent = page.getByRole('status').filter({ hasText: 'a sign-in code is on its way' });
    await sent.waitFor();
    expect(await sent.textContent()).toContain(email);
    // "Resend" waits out its cool-down, showing the time left
    const resend = page.getByRole('button', { name: /^Resend in 0:[0-3]\d$/ });
    await resend.waitFor();
    expect(await resend.isDisabled()).toBe(true);
    // the card fits the phone: no horizontal scrolling
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(PHONE.width);

    const [received] = await waitForMail(mail, email, 1, 60_000);
    expect(received.subject).toBe('Your Email Core sign-in code');
    const code = codeInMail(received);

    // a pasted wrong code keeps only its digits, and answers CODE_INVALID in words
    await paste(field, `Your code: ${wrong(code).slice(0, 3)} ${wrong(code).slice(3)}`);
    expect(await field.inputValue()).toBe(wrong(code));
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    const alert = page.getByRole('alert');
    await alert.filter({ hasText: 'That code is not right' }).waitFor();
    expect(await alert.getAttribute('data-error-code')).toBe('CODE_INVALID');
    expect(await field.getAttribute('aria-invalid')).toBe('true');
    await s.shot('code-invalid');

    // the code read over IMAP, typed as a person reads it from the mail ("123 456"): the space is dropped
    await field.fill('');
    await field.pressSequentially(`${code.slice(0, 3)} ${code.slice(3)}`);
    expect(await field.inputValue()).toBe(code);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.waitForURL(/#\/mail/);
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await s.shot('signed-in');

    // the same session as a password sign-in: the refresh cookie (httpOnly, script cannot read it) and nothing
    // in storage but the "has a session" hint; no code, no token
    const cookies = await s.context.cookies();
    expect(cookies.find((c) => c.name === 'ec_refresh')?.httpOnly).toBe(true);
    const stored = await page.evaluate(() => {
      const g = globalThis as unknown as PageStorage;
      return JSON.stringify({ local: { ...g.localStorage }, session: { ...g.sessionStorage } });
    });
    expect(stored).not.toContain(code);
    expect(stored).not.toMatch(/eyJ[\w-]+\.[\w-]+/);
    expect((JSON.parse(stored) as { local: Record<string, string> }).local['ec-session']).toBe('1');

    // a first sign-in by code creates the user already verified
    const me = await meInPage();
    expect(me.email).toBe(email);
    expect(me.emailVerifiedAt).not.toBeNull();

    // a reload signs in again through the refresh cookie, without the code; no "verify your address" banner
    await reloadSignedIn();
    expect(await page.getByRole('region', { name: 'Verify your email address.' }).count()).toBe(0);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(/#\/signin/);
    expectNoUnexpectedConsoleErrors();
  }, 180_000);

  it('shows "verify your address" after a password sign-up until the mailed code is typed in', async () => {
    const { page } = s;
    const email = address('dash-verify');
    await page.setViewportSize(DESKTOP);

    await signUpThroughUi(page, email, PASSWORD);
    const banner = page.getByRole('region', { name: 'Verify your email address.' });
    await banner.waitFor();
    expect(await banner.textContent()).toContain(email);
    const field = banner.getByLabel('Verification code');
    expect(await field.getAttribute('autocomplete')).toBe('one-time-code');
    expect(await field.getAttribute('inputmode')).toBe('numeric');
    await s.shot('verify-banner');
    // "Later" hides it for this tab only: a reload brings it back
    await banner.getByRole('button', { name: /later/i }).click();
    await banner.waitFor({ state: 'detached' });
    await reloadSignedIn();
    await banner.waitFor();

    const [first] = await waitForMail(mail, email, 1, 60_000);
    expect(first.subject).toBe('Verify your Email Core address');
    const firstCode = codeInMail(first);

    // a wrong code: CODE_INVALID in words, the banner stays
    await field.fill(wrong(firstCode));
    await banner.getByRole('button', { name: 'Verify', exact: true }).click();
    await banner.getByRole('alert').filter({ hasText: 'That code is not right' }).waitFor();
    expect(await field.getAttribute('aria-invalid')).toBe('true');

    // "Send again" mails a new code (it replaces the first) and then shows its wait
    await banner.getByRole('button', { name: 'Send again', exact: true }).click();
    await banner.getByRole('status').filter({ hasText: 'A new code is on its way' }).waitFor();
    const again = banner.getByRole('button', { name: /^Send again in 0:[0-3]\d$/ });
    await again.waitFor();
    expect(await again.isDisabled()).toBe(true);
    const mails = await waitForMail(mail, email, 2, 60_000);
    const secondCode = codeInMail(mails[1]);

    await field.pressSequentially(`${secondCode.slice(0, 3)} ${secondCode.slice(3)}`);
    expect(await field.inputValue()).toBe(secondCode);
    await banner.getByRole('button', { name: 'Verify', exact: true }).click();
    await banner.waitFor({ state: 'detached' });
    await page.getByText('Your email address is verified.').waitFor();
    await s.shot('verified');

    // the API agrees, for this browser's session and for a fresh password sign-in
    expect((await meInPage()).emailVerifiedAt).not.toBeNull();
    const signIn = await apiCall<{ accessToken: string }>(product.api, 'POST', '/api/v1/auth/signin', {
      body: { email, password: PASSWORD },
    });
    expect(signIn.status).toBe(200);
    const me = await apiCall<Me>(product.api, 'GET', '/api/v1/me', { token: signIn.body.accessToken });
    expect(me.body.email).toBe(email);
    expect(typeof me.body.emailVerifiedAt).toBe('string');

    // after a reload the banner stays away
    await reloadSignedIn();
    expect(await page.getByRole('region', { name: 'Verify your email address.' }).count()).toBe(0);
    expectNoUnexpectedConsoleErrors();
  }, 180_000);
});
