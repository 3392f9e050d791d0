import path from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  apiCall,
  devMailServer,
  ensureDashboardBuild,
  linkDevImap,
  linkOutlook,
  openBrowser,
  signUpThroughUi,
  startProduct,
  waitFor,
  waitForAccountStatus,
  withDevImapSession,
  type BrowserSession,
  type DevMailServer,
  type RunningProduct,
} from '@email-core/testing';

const tag = randomBytes(4).toString('hex');
const PASSWORD = 'correct horse battery staple';
const OUTLOOK = `dora-${tag}@drafts-ui.example`;
const OUTLOOK_PEER = `dora-peer-${tag}@drafts-ui.example`;
const IMAP = `dima-${tag}@drafts-ui-imap.example`;
const IMAP_PEER = `dima-peer-${tag}@drafts-ui-imap.example`;
const SHOT = path.resolve(__dirname, '../../docs/screenshots/draft-reopened.png');

type Provider = 'outlook' | 'imap';
/** how many messages with the subject each folder holds at the provider */
type Held = { drafts: number; sent: number };

/**
 * Drafts in real headless Chromium against the real stack, for an Outlook account (the emulator) and an IMAP
 * account (the stack's Dovecot): a mail typed in compose is saved as a draft a moment after typing stops; closed,
 * it stays in Drafts; opened from the Drafts folder it comes back into compose (not the reader); edited and sent,
 * it leaves exactly one message in Sent and none in Drafts, checked at the provider (the emulator's export; an
 * IMAP session of the test's own).
 */
describe('dashboard: a draft typed, closed, reopened and sent (Outlook and IMAP)', () => {
  let product: RunningProduct;
  let mail: DevMailServer;
  let s: BrowserSession;
  let token: string;
  const accounts: Record<Provider, string> = { outlook: '', imap: '' };

  beforeAll(async () => {
    ensureDashboardBuild();
    const server = devMailServer();
    if (!server) throw new Error('no dev mail server: run `npm run stack:up` (MAIL_IMAP, MAIL_SUBMISSION)');
    mail = server;
    product = await startProduct({ isolated: true, appEnv: { LOG_LEVEL: 'warn' } });
    for (const address of [OUTLOOK, OUTLOOK_PEER]) {
      await product.emulator.admin('POST', '/_emulator/mailboxes', {
        address,
        displayName: address.split('@')[0],
        password: PASSWORD,
        seed: { messages: 5, folders: 1, seed: 2311 },
      });
    }
    s = await openBrowser({
      baseUrl: product.api,
      name: 'dashboard-drafts',
      viewport: { width: 1280, height: 800 },
    });
    const email = `drafts-${tag}@example.test`;
    await signUpThroughUi(s.page, email, PASSWORD);
    const signIn = await apiCall<{ accessToken: string }>(product.api, 'POST', '/api/v1/auth/signin', {
      body: { email, password: PASSWORD },
    });
    token = signIn.body.accessToken;
    await linkOutlook(product, token, OUTLOOK, PASSWORD);
    accounts.outlook = (await waitForAccountStatus(product.api, token, 'synced')).id;
    accounts.imap = await linkDevImap(product.api, token, mail, IMAP);
    await waitForAccountStatus(product.api, token, 'synced', {
      accountId: accounts.imap,
      timeoutMs: 120_000,
    });
  }, 240_000);

  afterAll(async () => {
    await s?.close();
    await product?.stop();
  });

  async function heldAtOutlook(subject: string): Promise<Held> {
    const view = await product.emulator.admin<{
      folders: Array<{ id: string; wellKnownName?: string | null }>;
      messages: Array<{ parentFolderId: string; subject: string }>;
    }>('GET', `/_emulator/mailboxes/${OUTLOOK}/export?bodies=false`);
    const count = (name: string) => {
      const folder = view.folders.find((f) => f.wellKnownName === name)!.id;
      return view.messages.filter((m) => m.parentFolderId === folder && m.subject === subject).length;
    };
    return { drafts: count('drafts'), sent: count('sentitems') };
  }

  async function heldAtImap(subject: string): Promise<Held> {
    return withDevImapSession(mail, IMAP, async (c) => {
      const folders = await c.list();
      const count = async (specialUse: string) => {
        const folder = folders.find((f) => f.specialUse === specialUse)!;
        const lock = await c.getMailboxLock(folder.path);
        try {
          return ((await c.search({ subject }, { uid: true })) || []).length;
        } finally {
          lock.release();
        }
      };
      return { drafts: await count('\\Drafts'), sent: await count('\\Sent') };
    });
  }

  const held = (provider: Provider, subject: string) =>
    provider === 'outlook' ? heldAtOutlook(subject) : heldAtImap(subject);

  const until = (provider: Provider, subject: string, want: Held, what: string) =>
    waitFor(
      async () => {
        const now = await held(provider, subject);
        return now.drafts === want.drafts && now.sent === want.sent ? now : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 300, what },
    );

  it.each(['outlook', 'imap'] as const)('%s', async (provider) => {
    const { page } = s;
    const subject = `Offsite agenda ${provider} ${tag}`;
    const peer = provider === 'outlook' ? OUTLOOK_PEER : IMAP_PEER;
    await page.goto(`/#/mail/${accounts[provider]}`);
    await page.reload();
    const folders = page.getByRole('navigation', { name: 'Folders' });
    await folders.getByRole('link', { name: /inbox/i }).waitFor();

    // typed, then left alone: saved as a draft a moment later, once
    await page.getByRole('button', { name: 'New message' }).click();
    let dialog = page.getByRole('dialog', { name: 'New message' });
    await dialog.getByLabel('To').fill(peer);
    await dialog.getByLabel('Subject').fill(subject);
    await dialog.getByLabel('Message').fill('Day one: planning. Day two: ');
    await dialog.locator('[data-testid="draft-state"][data-state="saved"]').waitFor({ timeout: 30_000 });
    await until(provider, subject, { drafts: 1, sent: 0 }, 'the draft at the provider');

    // closed: still in Drafts, and listed there
    await dialog.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'detached' });
    await folders.getByRole('link', { name: /drafts/i }).click();
    const row = page.getByRole('listbox').getByRole('option').filter({ hasText: subject });
    await row.waitFor({ timeout: 30_000 });

    // opened from Drafts: compose, not the reader, with what was typed
    await row.click();
    dialog = page.getByRole('dialog', { name: 'New message' });
    await dialog.waitFor();
    expect(await dialog.getByLabel('Subject').inputValue()).toBe(subject);
    expect(await dialog.getByLabel('To').inputValue()).toContain(peer);
    await dialog.getByText('Day one: planning.').waitFor();
    await dialog.getByLabel('Message').fill('Day one: planning. Day two: the roadmap.');
    if (provider === 'outlook') await page.screenshot({ path: SHOT });
    await s.shot(`${provider}-draft-reopened`);

    // sent: exactly one message in Sent, none left in Drafts
    await dialog.getByRole('button', { name: 'Send' }).click();
    await dialog.waitFor({ state: 'detached', timeout: 60_000 });
    const after = await until(provider, subject, { drafts: 0, sent: 1 }, 'one sent message and no draft');
    expect(after).toEqual({ drafts: 0, sent: 1 });
    // and it stays so (no late save brings a draft back)
    await new Promise((r) => setTimeout(r, 2500));
    expect(await held(provider, subject)).toEqual({ drafts: 0, sent: 1 });
    await row.waitFor({ state: 'detached', timeout: 30_000 });
    s.expectNoConsoleErrors();
  });

  /** the reply at the provider, in Sent: its thread (Outlook: conversationId; IMAP: In-Reply-To and References) */
  async function sentReply(provider: Provider, subject: string): Promise<string | undefined> {
    if (provider === 'outlook') {
      const view = await product.emulator.admin<{
        folders: Array<{ id: string; wellKnownName?: string | null }>;
        messages: Array<{ parentFolderId: string; subject: string; conversationId: string }>;
      }>('GET', `/_emulator/mailboxes/${OUTLOOK}/export`); // (bodies=false leaves out conversationId)
      const sent = view.folders.find((f) => f.wellKnownName === 'sentitems')!.id;
      return view.messages.find((m) => m.parentFolderId === sent && m.subject.includes(subject))
        ?.conversationId;
    }
    return withDevImapSession(mail, IMAP, async (c) => {
      const folder = (await c.list()).find((f) => f.specialUse === '\\Sent')!;
      const lock = await c.getMailboxLock(folder.path);
      try {
        const uids = (await c.search({ subject }, { uid: true })) || [];
        if (uids.length !== 1) return undefined;
        const m = await c.fetchOne(
          String(uids[0]),
          { headers: ['in-reply-to', 'references'] },
          { uid: true },
        );
        return m ? m.headers?.toString('utf8') : undefined;
      } finally {
        lock.release();
      }
    });
  }

  it.each(['outlook', 'imap'] as const)(
    '%s: a reply draft closed and reopened from Drafts opens as the reply it is and is sent threaded',
    async (provider) => {
      const { page } = s;
      const original = `Budget question ${provider} ${tag}`;
      const messageId = `<budget-${provider}-${tag}@elsewhere.example>`;
      let thread = messageId;
      if (provider === 'outlook') {
        await product.emulator.admin('POST', `/_emulator/mailboxes/${OUTLOOK}/messages`, {
          subject: original,
          from: { emailAddress: { name: 'Petra Novak', address: 'petra@elsewhere.example' } },
          body: { contentType: 'text', content: 'Can you share the budget by Friday?' },
        });
      } else {
        await withDevImapSession(mail, IMAP, async (c) => {
          await c.append(
            'INBOX',
            [
              'From: Petra Novak <petra@elsewhere.example>',
              `To: ${IMAP}`,
              `Subject: ${original}`,
              `Message-ID: ${messageId}`,
              `Date: ${new Date().toUTCString()}`,
              'Content-Type: text/plain; charset=utf-8',
              '',
              'Can you share the budget by Friday?',
              '',
            ].join('\r\n'),
          );
        });
      }
      await page.goto(`/#/mail/${accounts[provider]}`);
      await page.reload();
      const folders = page.getByRole('navigation', { name: 'Folders' });
      await folders.getByRole('link', { name: /inbox/i }).waitFor();
      const row = page.locator('[aria-label="Messages"]').getByRole('option').filter({ hasText: original });
      await waitFor(
        async () => {
          if (await row.count()) return true;
          await page.reload();
          await page.locator('[aria-label="Messages"]').waitFor();
          return (await row.count()) > 0 ? true : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 2_000, what: 'the original in the inbox' },
      );
      if (provider === 'outlook') {
        const view = await product.emulator.admin<{
          messages: Array<{ subject: string; conversationId: string }>;
        }>('GET', `/_emulator/mailboxes/${OUTLOOK}/export`);
        thread = view.messages.find((m) => m.subject === original)!.conversationId;
      }

      // replied to from the reader, typed, closed: a reply draft
      await row.first().click();
      const reader = page.getByRole('region', { name: 'Message', exact: true });
      await reader.getByRole('heading', { name: original }).waitFor();
      await reader.getByRole('button', { name: 'Reply', exact: true }).click();
      let reply = page.getByRole('dialog', { name: 'Reply' });
      await reply.getByRole('textbox', { name: 'Message' }).locator('blockquote').waitFor();
      await page.keyboard.type('Numbers by Thursday. ');
      await reply.locator('[data-testid="draft-state"][data-state="saved"]').waitFor({ timeout: 30_000 });
      await reply.getByRole('button', { name: 'Close' }).click();
      await reply.waitFor({ state: 'detached' });

      // reopened from Drafts: compose as a Reply (not "New message"), its subject and the quoted original
      await folders.getByRole('link', { name: /drafts/i }).click();
      const draftRow = page.getByRole('listbox').getByRole('option').filter({ hasText: original });
      await draftRow.waitFor({ timeout: 30_000 });
      await draftRow.click();
      reply = page.getByRole('dialog', { name: 'Reply' });
      await reply.waitFor({ timeout: 15_000 });
      expect(await page.getByRole('dialog', { name: 'New message' }).count()).toBe(0);
      await reply.getByText(`RE: ${original}`).waitFor();
      const editor = reply.getByRole('textbox', { name: 'Message' });
      await editor.getByText('Numbers by Thursday.').waitFor();
      await editor.locator('blockquote', { hasText: 'Can you share the budget by Friday?' }).waitFor();
      await s.shot(`${provider}-reply-draft-reopened`);
      // edited and sent
      await editor.getByText('Numbers by Thursday.').click();
      await page.keyboard.press('End');
      await page.keyboard.type('Draft attached then.');
      await reply.getByRole('button', { name: 'Send' }).click();
      await reply.waitFor({ state: 'detached', timeout: 60_000 });

      // at the provider: one reply in Sent, threaded with the original; none left in Drafts
      const sentThread = await waitFor(() => sentReply(provider, original), {
        timeoutMs: 30_000,
        what: 'the reply in Sent',
      });
      if (provider === 'outlook') expect(sentThread).toBe(thread);
      else {
        expect(sentThread).toMatch(new RegExp(`^In-Reply-To: ${messageId}\\s*$`, 'im'));
        expect(sentThread).toMatch(new RegExp(`^References: ${messageId}\\s*$`, 'im'));
      }
      expect((await held(provider, `RE: ${original}`)).drafts).toBe(0);
      s.expectNoConsoleErrors();
    },
    180_000,
  );
});
