import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import type { Page } from 'playwright-core';
import {
  apiCall,
  devMailServer,
  ensureDashboardBuild,
  linkOutlook,
  openBrowser,
  readMailbox,
  signInThroughUi,
  signUp,
  startProduct,
  waitFor,
  waitForAccountStatus,
  waitForMail,
  type BrowserSession,
  type DevMailServer,
  type ReceivedMail,
  type RunningProduct,
} from '@email-core/testing';

interface GraphAddress {
  emailAddress: { address: string; name?: string };
}
interface ExportedMessage {
  subject: string;
  parentFolderId: string;
  body: { contentType: string; content: string };
  toRecipients: GraphAddress[];
  ccRecipients: GraphAddress[];
  bccRecipients: GraphAddress[];
}
interface ExportedMailbox {
  folders: { id: string; wellKnownName: string | null }[];
  messages: ExportedMessage[];
}

const PASSWORD = 'correct horse battery staple';
const SCREENSHOT = path.resolve(__dirname, '../../docs/screenshots/compose.png');
const tag = randomBytes(4).toString('hex');
/** the Outlook side: each product has its own emulator */
const OUTLOOK = { address: 'nadia.okafor@northwind.example', password: 'nadia-mailbox-password' };
const OUTLOOK_TO = 'tom.berg@northwind.example';
const OUTLOOK_BCC = 'legal@northwind.example';
/** the IMAP side: mailboxes of the stack's Dovecot + Postfix */
const IMAP_SELF = `compose-${tag}@compose.example`;
const IMAP_TO = `to-${tag}@compose.example`;
const IMAP_BCC = `bcc-${tag}@compose.example`;
const LINK = 'https://example.test/q4-plan';

const addresses = (list: GraphAddress[]) => list.map((r) => r.emailAddress.address.toLowerCase());

/**
 * Writes the rich mail in the open compose window: a bold line, a bulleted list of two items and a link (typed
 * with the toolbar and the keyboard, as a user would), so what arrives can be compared with what was written.
 */
async function writeRichMail(page: Page, dialog: ReturnType<Page['getByRole']>) {
  const editor = dialog.getByRole('textbox', { name: 'Message' });
  await editor.click();
  await dialog.getByRole('button', { name: 'Bold' }).click();
  await page.keyboard.type('Decisions needed by Friday');
  await dialog.getByRole('button', { name: 'Bold' }).click();
  await page.keyboard.press('Enter');
  await dialog.getByRole('button', { name: 'Bulleted list' }).click();
  await page.keyboard.type('Budget for the sync engine');
  await page.keyboard.press('Enter');
  await page.keyboard.type('Hiring plan');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Enter');
  await page.keyboard.type('The plan: ');
  page.once('dialog', (d) => void d.accept(LINK));
  await dialog.getByRole('button', { name: 'Link' }).click();
  await editor.locator(`a[href="${LINK}"]`).waitFor();
  expect(await dialog.getByRole('button', { name: 'Bold' }).getAttribute('aria-pressed')).toBe('false');
}

/** The HTML a rich mail must arrive with: the bold line, both list items, the link. */
function expectRichHtml(html: string) {
  expect(html).toMatch(/<strong>Decisions needed by Friday<\/strong>/);
  expect(html).toMatch(
    /<ul>\s*<li>\s*<p>Budget for the sync engine<\/p>\s*<\/li>\s*<li>\s*<p>Hiring plan<\/p>/,
  );
  expect(html).toContain(`href="${LINK}"`);
  expect(html).not.toMatch(/<script|onerror|onclick/i);
}

/**
 * Rich compose in real headless Chromium against the real stack: for an Outlook account (the emulator) and an IMAP
 * account (the stack's Dovecot + Postfix), a mail written with the editor (bold, a list, a link) and sent to one
 * recipient with a Bcc recipient arrives at both; the Bcc recipient is never visible to the other (the emulator's
 * export of each mailbox; independent IMAP reads of each Dovecot mailbox), the sender's Sent copy keeps it; it
 * arrives as HTML (Graph) / multipart/alternative with a text part (SMTP). Also writes docs/screenshots/compose.png.
 */
describe('dashboard rich compose with Bcc (headless Chromium, Outlook and IMAP)', () => {
  let product: RunningProduct;
  let mail: DevMailServer;
  let s: BrowserSession;
  let token: string;
  let email: string;
  let outlookId: string;
  let imapId: string;

  const exported = (address: string) =>
    product.emulator.admin<ExportedMailbox>('GET', `/_emulator/mailboxes/${address}/export`);
  const inFolder = async (address: string, wellKnown: string, subject: string) => {
    const box = await exported(address);
    const folder = box.folders.find((f) => f.wellKnownName === wellKnown)!.id;
    return box.messages.find((m) => m.subject === subject && m.parentFolderId === folder);
  };

  beforeAll(async () => {
    const server = devMailServer();
    if (!server) throw new Error('no dev mail server: run `npm run stack:up` (MAIL_IMAP, MAIL_SUBMISSION)');
    mail = server;
    ensureDashboardBuild();
    product = await startProduct({ appEnv: { LOG_LEVEL: 'log' } });
    for (const [address, displayName] of [
      [OUTLOOK.address, 'Nadia Okafor'],
      [OUTLOOK_TO, 'Tom Berg'],
      [OUTLOOK_BCC, 'Legal'],
    ]) {
      await product.emulator.admin('POST', '/_emulator/mailboxes', {
        address,
        displayName,
        password: address === OUTLOOK.address ? OUTLOOK.password : `${address}-pw`,
        seed: { messages: 3, folders: 0, seed: 7 },
      });
    }
    ({ token, email } = await signUp(product.api, `compose-${tag}@example.test`));
    await linkOutlook(product, token, OUTLOOK.address, OUTLOOK.password);
    outlookId = (await waitForAccountStatus(product.api, token, 'synced')).id;
    const login = { host: mail.imap.host, username: IMAP_SELF, password: mail.password };
    const linked = await apiCall<{ id: string }>(product.api, 'POST', '/api/v1/accounts/imap', {
      token,
      body: {
        email: IMAP_SELF,
        imap: { ...login, port: mail.imap.port, security: 'starttls' },
        smtp: { ...login, host: mail.submission.host, port: mail.submission.port, security: 'starttls' },
      },
    });
    expect(linked.status).toBe(201);
    imapId = linked.body.id;
    await waitForAccountStatus(product.api, token, 'synced', { accountId: imapId, timeoutMs: 60_000 });
    s = await openBrowser({
      baseUrl: product.api,
      name: 'dashboard-compose',
      viewport: { width: 1280, height: 860 },
    });
    await signInThroughUi(s.page, email, PASSWORD);
  }, 240_000);

  afterAll(async () => {
    await s?.close();
    await product?.stop();
  });

  const openCompose = async (accountId: string) => {
    const { page } = s;
    await page.goto(`/#/mail/${encodeURIComponent(accountId)}`);
    await page
      .getByRole('button', { name: 'New message' })
      .waitFor({ timeout: 15_000 })
      .catch(async (err: unknown) => {
        await s.shot('no-new-message');
        throw err;
      });
    await page.getByRole('button', { name: 'New message' }).click();
    const dialog = page.getByRole('dialog', { name: 'New message' });
    await dialog.getByRole('textbox', { name: 'Message' }).waitFor();
    return dialog;
  };

  const send = async (dialog: ReturnType<Page['getByRole']>) => {
    await dialog.getByRole('button', { name: 'Send' }).click();
    await dialog.waitFor({ state: 'detached' });
    // the outcome is checked where it matters: at the recipients' mailboxes
    expect(await dialog.getByRole('alert').count()).toBe(0);
  };

  it('Outlook: a rich mail with Bcc reaches To and Bcc as HTML; the Bcc shows only in the sender’s Sent Items', async () => {
    const subject = `Q4 plan ${tag}`;
    const dialog = await openCompose(outlookId);
    await dialog.getByLabel('To').fill(`Tom Berg <${OUTLOOK_TO}>`);
    await dialog.getByLabel('Bcc').fill(OUTLOOK_BCC);
    await dialog.getByLabel('Subject').fill(subject);
    await writeRichMail(s.page, dialog);
    await s.page.mouse.move(20, 20);
    await s.page.screenshot({ path: SCREENSHOT });
    await s.shot('outlook-compose');
    await send(dialog);

    const atTo = await waitFor(() => inFolder(OUTLOOK_TO, 'inbox', subject), {
      timeoutMs: 30_000,
      what: 'the mail in the To recipient’s Inbox',
    });
    const atBcc = await waitFor(() => inFolder(OUTLOOK_BCC, 'inbox', subject), {
      timeoutMs: 30_000,
      what: 'the mail in the Bcc recipient’s Inbox',
    });
    for (const copy of [atTo, atBcc]) {
      expect(copy.body.contentType).toBe('html');
      expectRichHtml(copy.body.content);
      expect(addresses(copy.toRecipients)).toEqual([OUTLOOK_TO]);
      expect(copy.ccRecipients).toEqual([]);
      // nobody's copy names the Bcc recipient
      expect(copy.bccRecipients).toEqual([]);
      expect(JSON.stringify(copy)).not.toContain(OUTLOOK_BCC);
    }
    const sent = await waitFor(() => inFolder(OUTLOOK.address, 'sentitems', subject), {
      timeoutMs: 30_000,
      what: 'the sender’s copy in Sent Items',
    });
    expect(addresses(sent.bccRecipients)).toEqual([OUTLOOK_BCC]);
    s.expectNoConsoleErrors();
  });

  it('a signature set on the Accounts page is sanitized, and a reply starts with it above the quoted original, quoted once', async () => {
    const { page } = s;
    // set through the Accounts page, with the editor
    await page.goto('/#/accounts');
    await page.getByRole('button', { name: `Edit the signature of ${OUTLOOK.address}` }).click();
    const group = page.getByRole('group', { name: `Signature of ${OUTLOOK.address}` });
    await group.getByRole('textbox', { name: 'Signature' }).click();
    await group.getByRole('button', { name: 'Bold' }).click();
    await page.keyboard.type('Nadia Okafor');
    await group.getByRole('button', { name: 'Bold' }).click();
    await page.keyboard.press('Enter');
    await page.keyboard.type('Head of Platform, Northwind');
    await group.getByRole('button', { name: 'Save signature' }).click();
    await page.getByTestId('toast').filter({ hasText: 'Signature saved' }).first().waitFor();
    const accounts = await apiCall<{ items: { id: string; signatureHtml: string | null }[] }>(
      product.api,
      'GET',
      '/api/v1/accounts',
      { token },
    );
    const stored = accounts.body.items.find((a) => a.id === outlookId)!.signatureHtml;
    expect(stored).toBe('<p><strong>Nadia Okafor</strong></p><p>Head of Platform, Northwind</p>');
    expect(accounts.body.items.find((a) => a.id === imapId)!.signatureHtml).toBeNull();

    // the server sanitizes what it is sent, limits the size, and lets only the owner set it
    const put = (accountId: string, html: string, as = token) =>
      apiCall<{ signatureHtml?: string | null; error?: string }>(
        product.api,
        'PUT',
        `/api/v1/accounts/${accountId}/signature`,
        { token: as, body: { html } },
      );
    const hostile = await put(
      imapId,
      '<p onclick="x()">Hi<script>alert(1)</script></p><img src=x onerror=alert(1)>',
    );
    expect(hostile.status).toBe(200);
    expect(hostile.body.signatureHtml).toMatch(/^<p>Hi<\/p>/);
    expect(hostile.body.signatureHtml).not.toMatch(/script|onclick|onerror|javascript:|<img/i);
    expect((await put(imapId, `<p>${'x'.repeat(10_001)}</p>`)).body.error).toBe('SIGNATURE_TOO_LONG');
    const other = await signUp(product.api);
    const foreign = await put(outlookId, '<p>not mine</p>', other.token);
    expect([foreign.status, foreign.body.error]).toEqual([404, 'ACCOUNT_NOT_FOUND']);
    expect((await put(imapId, '<p></p>')).body.signatureHtml).toBeNull();

    // a reply from the reader: cursor on top, the signature, then the original under "On …, … wrote:"
    await page.goto(`/#/mail/${encodeURIComponent(outlookId)}`);
    const first = page.locator('[aria-label="Messages"]').getByRole('option').first();
    await first.click();
    const reader = page.getByRole('region', { name: 'Message', exact: true });
    const originalSubject = (await reader.getByRole('heading').first().textContent())!.trim();
    await reader.getByRole('button', { name: 'Reply', exact: true }).click();
    const reply = page.getByRole('dialog', { name: 'Reply' });
    const editor = reply.getByRole('textbox', { name: 'Message' });
    await editor.locator('blockquote').waitFor();
    await expect(editor.locator('strong', { hasText: 'Nadia Okafor' }).count()).resolves.toBe(1);
    await expect(editor.getByText(/^On .+ wrote:$/).count()).resolves.toBe(1);
    await page.keyboard.type('Thanks, agreed.');
    await expect(editor.locator('p').first().textContent()).resolves.toBe('Thanks, agreed.');
    await s.shot('reply-with-signature');
    await send(reply);

    const sent = await waitFor(() => inFolder(OUTLOOK.address, 'sentitems', `RE: ${originalSubject}`), {
      timeoutMs: 30_000,
      what: 'the reply in Sent Items',
    });
    const body = sent.body.content;
    const at = (text: string) => body.indexOf(text);
    expect(at('Thanks, agreed.')).toBeGreaterThanOrEqual(0);
    expect(at('Thanks, agreed.')).toBeLessThan(at('Nadia Okafor'));
    expect(at('Nadia Okafor')).toBeLessThan(at('wrote:'));
    // quoted once: our quote only, not Graph's header block on top of it
    expect(body.match(/wrote:/g)).toHaveLength(1);
    expect(body.match(/<blockquote/g)).toHaveLength(1);
    expect(body).not.toContain('divRplyFwdMsg');
    s.expectNoConsoleErrors();
  });

  it('IMAP: a rich mail with Bcc reaches To and Bcc as multipart/alternative; no Bcc header reaches them', async () => {
    const subject = `Q4 plan over SMTP ${tag}`;
    const dialog = await openCompose(imapId);
    await dialog.getByLabel('To').fill(IMAP_TO);
    // a copy to the account itself: the next test replies to it from the IMAP Inbox
    await dialog.getByLabel('Cc', { exact: true }).fill(IMAP_SELF);
    await dialog.getByLabel('Bcc').fill(IMAP_BCC);
    await dialog.getByLabel('Subject').fill(subject);
    await writeRichMail(s.page, dialog);
    await s.shot('imap-compose');
    await send(dialog);

    // each recipient's own mailbox, read independently over IMAP
    for (const address of [IMAP_TO, IMAP_BCC]) {
      const [received] = (await waitForMail(mail, address, 1, 30_000)).filter((m) => m.subject === subject);
      expect(received).toBeDefined();
      const headers = received.source.slice(0, received.source.search(/\r?\n\r?\n/));
      expect(headers).not.toMatch(/^Bcc:/im);
      expect(received.source).not.toContain(IMAP_BCC);
      expect(headers).toMatch(/^Content-Type: multipart\/alternative/im);
      const parsed = await simpleParser(received.source);
      expect(parsed.to && !Array.isArray(parsed.to) ? parsed.to.value.map((v) => v.address) : []).toEqual([
        IMAP_TO,
      ]);
      expectRichHtml(typeof parsed.html === 'string' ? parsed.html : '');
      // the text alternative: the same content without markup
      expect(parsed.text).toContain('Decisions needed by Friday');
      expect(parsed.text).toMatch(/^ \* Budget for the sync engine$/m);
      expect(parsed.text).toMatch(/^ \* Hiring plan$/m);
      expect(parsed.text).toContain(`The plan: ${LINK}`);
      expect(parsed.text).not.toContain('<');
    }
    s.expectNoConsoleErrors();
  });
  it('IMAP: a reply quotes the original once, under "On …, … wrote:", with a text alternative', async () => {
    const { page } = s;
    const subject = `Q4 plan over SMTP ${tag}`;
    await page.goto(`/#/mail/${encodeURIComponent(imapId)}`);
    // the copy the account sent itself reaches its Inbox, then the mirror (IDLE or the poll)
    const row = page.locator('[aria-label="Messages"]').getByRole('option').filter({ hasText: subject });
    await waitFor(
      async () => {
        if (await row.count()) return true;
        await page.reload();
        await page.locator('[aria-label="Messages"]').waitFor();
        return (await row.count()) > 0 ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 3_000, what: 'the Cc copy in the IMAP Inbox' },
    );
    await row.first().click();
    const reader = page.getByRole('region', { name: 'Message', exact: true });
    await reader.getByRole('heading', { name: subject }).waitFor();
    await reader.getByRole('button', { name: 'Reply', exact: true }).click();
    const reply = page.getByRole('dialog', { name: 'Reply' });
    const editor = reply.getByRole('textbox', { name: 'Message' });
    await editor.locator('blockquote').waitFor();
    await page.keyboard.type('Agreed on both.');
    await send(reply);

    // a reply to a mail the account sent goes to that mail's To (the worker's rule) or, as the compose window
    // addresses it, to the sender: either way it is read from the Dovecot mailbox it reached
    const replies = await waitFor(
      async () => {
        const found: ReceivedMail[] = [];
        for (const address of [IMAP_TO, IMAP_SELF]) {
          found.push(...(await readMailbox(mail, address)).filter((m) => /^Re: /i.test(m.subject)));
        }
        return found.length > 0 ? found : undefined;
      },
      { timeoutMs: 30_000, what: 'the reply in a recipient’s mailbox' },
    );
    const parsed = await simpleParser(replies[0].source);
    const html = typeof parsed.html === 'string' ? parsed.html : '';
    expect(html.indexOf('Agreed on both.')).toBeGreaterThanOrEqual(0);
    expect(html.indexOf('Agreed on both.')).toBeLessThan(html.indexOf('wrote:'));
    expect(html.match(/wrote:/g)).toHaveLength(1);
    expect(html.match(/<blockquote/g)).toHaveLength(1);
    expect(html).toContain('Decisions needed by Friday');
    expect(html).not.toContain('-----Original Message-----');
    expect(parsed.inReplyTo).toBeTruthy();
    expect(parsed.text).toMatch(/^> .*Decisions needed by Friday/m);
    s.expectNoConsoleErrors();
  }, 150_000);
});
