import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const root = path.resolve(__dirname, '../../..');

/** Debian's chromium (`apt-get install chromium`); tests never download a browser. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOT_ROOT = path.join(root, 'test-results', 'screenshots');

export interface BrowserSession {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** console errors and uncaught page errors seen so far, in order */
  consoleErrors: string[];
  /** saves `test-results/screenshots/<name>/<NN>-<step>.png` and answers its path */
  shot(step: string): Promise<string>;
  /** fails with the list when any console error or page error was seen */
  expectNoConsoleErrors(): void;
  close(): Promise<void>;
}

/**
 * A fresh headless Chromium on `baseUrl` (the producer, which serves the dashboard). Every console error and
 * uncaught exception is recorded, so a test can assert the run had none.
 */
export async function openBrowser(options: {
  baseUrl: string;
  /** screenshots go to test-results/screenshots/<name>/ */
  name: string;
  viewport?: { width: number; height: number };
}): Promise<BrowserSession> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  // The emulator signs its HTTPS with the project's local CA, which this throwaway browser profile does not know.
  const context = await browser.newContext({
    baseURL: options.baseUrl,
    viewport: options.viewport ?? { width: 1400, height: 900 },
    ignoreHTTPSErrors: true,
  });
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(`${message.text()} (${message.location().url})`);
  });
  page.on('pageerror', (error) => consoleErrors.push(`uncaught: ${error.message}`));
  const dir = path.join(SCREENSHOT_ROOT, options.name);
  mkdirSync(dir, { recursive: true });
  let step = 0;
  return {
    browser,
    context,
    page,
    consoleErrors,
    async shot(name) {
      step += 1;
      const file = path.join(dir, `${String(step).padStart(2, '0')}-${name}.png`);
      await page.screenshot({ path: file });
      return file;
    },
    expectNoConsoleErrors() {
      if (consoleErrors.length) throw new Error(`console errors:\n${consoleErrors.join('\n')}`);
    },
    async close() {
      await browser.close();
    },
  };
}

/** Signs in through the dashboard's form, as a user does, and waits for the mail view. */
export async function signInThroughUi(page: Page, email: string, password: string): Promise<void> {
  await page.goto('/#/signin');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL(/#\/mail/);
}

/** Creates an account through the dashboard's sign-up form and waits for the mail view. */
export async function signUpThroughUi(page: Page, email: string, password: string): Promise<void> {
  await page.goto('/#/signup');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(/#\/mail/);
}
