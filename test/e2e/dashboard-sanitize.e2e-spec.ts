import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
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

const MAILBOX = 'sam.sentinel@contoso.example';
const MAILBOX_PASSWORD = 'sam-mailbox-password';
const PASSWORD = 'correct horse battery staple';
const HOSTILE_SUBJECT = 'Security check: your account';
const OTHER_SUBJECT = 'A harmless note';
/** 1×1 transparent PNG */
const PIXEL = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=',
  'base64',
);
const DATA_IMAGE = `data:image/png;base64,${PIXEL.toString('base64')}`;

/** everything in it tries to run, to fetch, or to phone home; only the images may load, and only when allowed */
function hostileHtml(origin: string): string {
  const beacon = (why: string) => `${origin}/beacon?${why}`;
  return `<html><head>
<style>
@import url("${origin}/import.css");
@font-face { font-family: Spy; src: url(${origin}/font.woff); }
.banner { background-image: url(${origin}/style-tag-bg.png); height: 20px; }
.custom { --spy: url(${origin}/custom-style.png); background-image: var(--spy); height: 20px; }
.escaped { --spy2: u\\72l(${origin}/custom-escaped.png); background-image: var(--spy2); height: 20px; }
.escape { content: "</style><script>window.top.__pwned = 'style-escape'</script>"; }
</style>
<meta http-equiv="refresh" content="0;url=${beacon('refresh')}">
<base href="${origin}/base/">
</head><body>
<h1>Account notice</h1>
<script>try { window.top.__pwned = 'script'; } catch (e) {} fetch('${beacon('script')}'); new Image().src = '${beacon('script-image')}'; alert('xss');</script>
<img src=x onerror="window.top.__pwned = 'onerror'; fetch('${beacon('onerror')}')" alt="broken">
<p><a href="javascript:window.top.__pwned='link';fetch('${beacon('link')}')">Claim your prize</a></p>
<p><a href="https://example.com/safe" onclick="alert('click')">A safe link</a></p>
<p><a href="relative/path">A relative link</a></p>
<img src="${origin}/pixel.png" alt="tracking pixel" width="1" height="1">
<img srcset="${origin}/srcset.png 2x" alt="srcset image">
<img src="//127.0.0.1:1/protocol-relative.png" alt="protocol relative">
<img src="data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>" alt="svg data">
<img src="${DATA_IMAGE}" alt="inline data image">
<div class="banner">styled by a style tag</div>
<div style="background: url('${origin}/inline-bg.png') no-repeat; height: 20px">styled inline</div>
<div style="--pixel: url(${origin}/custom-inline.png); background-image: var(--pixel); height: 20px">custom property</div>
<div class="custom">custom property in a style tag</div>
<div class="escaped">escaped custom property</div>
<table background="${origin}/table-bg.png"><tr><td>legacy background</td></tr></table>
<form action="${beacon('form')}"><input name="q" value="secret"><button>Go</button></form>
<iframe src="${beacon('iframe')}"></iframe>
<object data="${beacon('object')}"></object>
<svg><script>window.top.__pwned = 'svg'</script><image href="${beacon('svg-image')}"/></svg>
<video poster="${beacon('poster')}" src="${beacon('video')}"></video>
<p onmouseover="window.top.__pwned = 'mouseover'" id="hover-target">Move the mouse here</p>
</body></html>`;
}

/**
 * HTML bodies are sanitized: a mail with a script, event handlers, a javascript: link, forms, frames and remote
 * images runs nothing and fetches nothing when opened (a local server counts every request it would make), and its
 * remote images load only after "Show images" (in CSS custom properties too, however spelled, and counted in the
 * banner). No console errors and no CSP violation on the way: the dashboard's own policy runs no inline handler and
 * takes no <base>, and parsing the hostile mail (in a document of its own) reports nothing against it.
 */
describe('dashboard: hostile HTML mail (headless Chromium)', () => {
  let product: RunningProduct;
  let s: BrowserSession;
  let server: Server;
  let origin: string;
  let email: string;
  const hits: string[] = [];
  const dialogs: string[] = [];
  const popups: string[] = [];
  const hitsOf = (pathname: string) => hits.filter((h) => h === pathname).length;

  beforeAll(async () => {
    ensureDashboardBuild();
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      hits.push(url.pathname);
      if (url.pathname.endsWith('.png')) {
        res.writeHead(200, { 'content-type': 'image/png', 'cache-control': 'no-store' });
        res.end(PIXEL);
        return;
      }
      res.writeHead(204, { 'cache-control': 'no-store' });
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    product = await startProduct({ appEnv: { LOG_LEVEL: 'warn' } });
    await product.emulator.admin('POST', '/_emulator/mailboxes', {
      address: MAILBOX,
      displayName: 'Sam Sentinel',
      password: MAILBOX_PASSWORD,
      seed: { messages: 20, folders: 1, seed: 7 },
    });
    const now = Date.now();
    await product.emulator.admin('POST', `/_emulator/mailboxes/${MAILBOX}/messages`, {
      subject: OTHER_SUBJECT,
      from: { emailAddress: { name: 'Nora Friendly', address: 'nora@fabrikam.example' } },
      body: { contentType: 'html', content: '<p>Nothing to see here.</p>' },
      receivedDateTime: new Date(now - 60_000).toISOString(),
    });
    await product.emulator.admin('POST', `/_emulator/mailboxes/${MAILBOX}/messages`, {
      subject: HOSTILE_SUBJECT,
      from: { emailAddress: { name: 'Totally Your Bank', address: 'security@bank.example' } },
      body: { contentType: 'html', content: hostileHtml(origin) },
      receivedDateTime: new Date(now).toISOString(),
    });
    const user = await signUp(product.api);
    email = user.email;
    await linkOutlook(product, user.token, MAILBOX, MAILBOX_PASSWORD);
    await waitForAccountStatus(product.api, user.token, 'synced');

    s = await openBrowser({ baseUrl: product.api, name: 'dashboard-sanitize' });
    // every CSP violation reported to the dashboard's document (a hostile mail parsed under its policy would report
    // its onerror= and <base> here)
    await s.context.addInitScript(`
      window.__cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) =>
        window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
    `);
    s.page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    s.context.on('page', (p) => popups.push(p.url()));
  }, 240_000);

  afterAll(async () => {
    await s?.close();
    await product?.stop();
    await new Promise((resolve) => server?.close(resolve));
  });

  const pwned = () => s.page.evaluate('window.__pwned');
  const violations = () => s.page.evaluate('window.__cspViolations');
  const blockedCount = async () =>
    Number(/(\d+) not loaded/.exec((await s.page.locator('.mail-remote-banner').textContent()) ?? '')?.[1]);

  it("serves the dashboard with script-src-attr 'none' and base-uri 'none', the mail parser page with its own policy", async () => {
    const res = await fetch(`${product.api}/`);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src-attr 'none'");
    expect(csp).toContain("base-uri 'none'");
    const parser = await fetch(`${product.api}/mail-parser.html`);
    expect(parser.status).toBe(200);
    const parserCsp = parser.headers.get('content-security-policy') ?? '';
    expect(parserCsp).toContain("default-src 'none'");
    expect(parserCsp).toContain("frame-ancestors 'self'");
  });

  it('opens the mail: nothing runs, nothing is fetched, the javascript: link is gone', async () => {
    const { page } = s;
    await signInThroughUi(page, email, PASSWORD);
    const row = page
      .locator('[aria-label="Messages"]')
      .getByRole('option')
      .filter({ hasText: HOSTILE_SUBJECT });
    await row.click();
    const frameElement = page.locator('iframe[title="Message body"]');
    const frame = page.frameLocator('iframe[title="Message body"]');
    await frame.getByRole('heading', { name: 'Account notice' }).waitFor();
    await page.getByText('Remote images blocked').waitFor();
    // sweep the pointer over the whole body, where a mouseover handler would fire (Playwright cannot act on
    // elements inside a frame that may not run script, so the mouse moves by coordinates)
    const area = (await frameElement.boundingBox())!;
    for (let y = area.y + 4; y < area.y + area.height; y += 12) {
      await page.mouse.move(area.x + 8, y);
      await page.mouse.move(area.x + area.width - 8, y, { steps: 4 });
    }
    await page.waitForTimeout(1500);
    await s.shot('hostile-mail-opened');

    // nothing ran: no flag on the dashboard's window, no dialog, no popup, no request at all to the local server
    expect(await pwned()).toBeUndefined();
    expect(dialogs).toEqual([]);
    expect(popups).toEqual([]);
    expect(hits).toEqual([]);

    // the frame: sandboxed without scripts or same-origin, a CSP that allows no script
    expect(await frameElement.getAttribute('sandbox')).toBe('allow-popups allow-popups-to-escape-sandbox');
    // the banner counts every remote image it kept out: 6 in elements and ordinary CSS, 3 in custom properties
    expect(await blockedCount()).toBe(9);
    // no CSP violation on the dashboard: nothing of the mail was parsed under its policy
    expect(await violations()).toEqual([]);

    // every frame showing the mail (the body's hidden layout copy too) is sandboxed without scripts; the one other
    // frame is the empty parser page, same-origin with a policy that lets nothing load or run
    const frames = page.locator('iframe:not([title="Mail parser"])');
    expect(await frames.count()).toBeGreaterThan(0);
    const parserFrame = page.locator('iframe[title="Mail parser"]');
    expect(await parserFrame.count()).toBe(1);
    expect(await parserFrame.getAttribute('src')).toBe('/mail-parser.html');
    expect(await parserFrame.isHidden()).toBe(true);
    for (const f of await frames.all()) {
      const sandbox = await f.getAttribute('sandbox');
      expect(sandbox).not.toBeNull();
      expect(sandbox).not.toContain('allow-scripts');
    }
    const srcdoc = (await frameElement.getAttribute('srcdoc')) ?? '';
    expect(srcdoc).toContain(`content="default-src 'none'; img-src data:; style-src 'unsafe-inline'"`);
    for (const banned of [
      '<script',
      'onerror',
      'onclick',
      'onmouseover',
      'javascript:',
      '<form',
      '<iframe',
      '<object',
    ]) {
      expect(srcdoc.toLowerCase()).not.toContain(banned);
    }
    expect(srcdoc).not.toContain(origin);
    expect(srcdoc).not.toContain('</style><script>');

    // links: the javascript: and relative ones are text now; the safe one opens a new tab without opener
    expect(await frame.getByText('Claim your prize').getAttribute('href')).toBeNull();
    expect(await frame.getByText('A relative link').getAttribute('href')).toBeNull();
    const safe = frame.getByRole('link', { name: 'A safe link' });
    expect(await safe.getAttribute('href')).toBe('https://example.com/safe');
    expect(await safe.getAttribute('target')).toBe('_blank');
    expect(await safe.getAttribute('rel')).toBe('noopener noreferrer');
    expect(await safe.getAttribute('onclick')).toBeNull();

    // images: the raster data: one stays, every remote, relative, protocol-relative or SVG source is gone
    expect(await frame.getByAltText('inline data image').getAttribute('src')).toBe(DATA_IMAGE);
    for (const alt of ['tracking pixel', 'broken', 'protocol relative', 'svg data', 'srcset image']) {
      expect(await frame.getByAltText(alt).getAttribute('src')).toBeNull();
    }
    expect(await frame.getByAltText('srcset image').getAttribute('srcset')).toBeNull();
    expect(await frame.locator('script, form, input, iframe, object, video, svg').count()).toBe(0);
    s.expectNoConsoleErrors();
  });

  it('loads the remote images once the user asks, and still runs nothing', async () => {
    const { page } = s;
    await page.getByRole('button', { name: 'Show images' }).click();
    const frame = page.frameLocator('iframe[title="Message body"]');
    await frame.getByRole('heading', { name: 'Account notice' }).waitFor();
    await waitFor(
      () =>
        Promise.resolve(
          hitsOf('/pixel.png') > 0 &&
            hitsOf('/inline-bg.png') > 0 &&
            hitsOf('/style-tag-bg.png') > 0 &&
            hitsOf('/custom-inline.png') > 0 &&
            hitsOf('/custom-style.png') > 0 &&
            hitsOf('/custom-escaped.png') > 0
            ? true
            : undefined,
        ),
      { timeoutMs: 10_000, what: 'the remote images to be requested' },
    );
    await page.waitForTimeout(1000);
    await s.shot('images-shown');
    expect(await page.getByText('Remote images blocked').count()).toBe(0);
    expect(await frame.getByAltText('tracking pixel').getAttribute('src')).toBe(`${origin}/pixel.png`);
    expect(await frame.getByAltText('srcset image').getAttribute('srcset')).toBe(`${origin}/srcset.png 2x`);
    const srcdoc = (await page.locator('iframe[title="Message body"]').getAttribute('srcdoc')) ?? '';
    expect(srcdoc).toContain(`img-src data: https: http:`);

    // only images: no script, beacon, sheet, font, form, frame or media request, no dialog, no flag
    const images = new Set([
      '/pixel.png',
      '/srcset.png',
      '/inline-bg.png',
      '/style-tag-bg.png',
      '/table-bg.png',
      '/custom-inline.png',
      '/custom-style.png',
      '/custom-escaped.png',
    ]);
    expect(hits.filter((h) => !images.has(h))).toEqual([]);
    expect(await pwned()).toBeUndefined();
    expect(dialogs).toEqual([]);
    expect(popups).toEqual([]);
    expect(await violations()).toEqual([]);
    s.expectNoConsoleErrors();
  });

  it('blocks them again when the mail is opened again (the choice is per opening)', async () => {
    const { page } = s;
    const list = page.locator('[aria-label="Messages"]');
    await list.getByRole('option').filter({ hasText: OTHER_SUBJECT }).click();
    await page.frameLocator('iframe[title="Message body"]').getByText('Nothing to see here.').waitFor();
    const before = hits.length;
    await list.getByRole('option').filter({ hasText: HOSTILE_SUBJECT }).click();
    await page
      .frameLocator('iframe[title="Message body"]')
      .getByRole('heading', { name: 'Account notice' })
      .waitFor();
    await page.getByText('Remote images blocked').waitFor();
    await page.waitForTimeout(1000);
    expect(hits.length).toBe(before);
    expect(await blockedCount()).toBe(9);
    expect(await violations()).toEqual([]);
    await s.shot('blocked-again');
    s.expectNoConsoleErrors();
  });
});
