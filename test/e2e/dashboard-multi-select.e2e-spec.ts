import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Client } from 'pg';
import { fillMailbox } from '@email-core/stack';
import {
  devImapSession,
  devMailServer,
  devMailTarget,
  ensureDashboardBuild,
  linkDevImap,
  linkOutlook,
  openBrowser,
  signInThroughUi,
  signUp,
  startProduct,
  waitFor,
  waitForAccountStatus,
  type BrowserSession,
  type DevMailServer,
  type RunningProduct,
} from '@email-core/testing';

/** each product has its own emulator, so the address needs no random part */
const OUTLOOK = 'noor.haddad@northwind.example';
const OUTLOOK_PASSWORD = 'noor-mailbox-password';
const PASSWORD = 'correct horse battery staple';
const MESSAGES = 1200;
const SCREENSHOT = path.resolve(__dirname, '../../docs/screenshots/multi-select.png');

interface Exported {
  folders: Array<{ id: string; wellKnownName: string | null }>;
  messages: Array<{ parentFolderId: string }>;
}

/**
 * Multi-select in real headless Chromium against the real stack, for an Outlook account (the emulator) and an IMAP
 * account (the stack's Dovecot): ticking rows (checkbox, Shift range, Ctrl toggle, Space), then "select all" over a
 * 1,200-message inbox (a server-side selection, never 1,200 ids loaded) and Archive: one batch of three commands,
 * one status in the UI, and all 1,200 messages in Archive at the provider (the emulator's export, an independent
 * IMAP session) and in the mirror.
 */
describe('dashboard multi-select (headless Chromium)', () => {
  let product: RunningProduct;
  let mail: DevMailServer;
  let s: BrowserSession;
  let db: Client;
  let token: string;
  let email: string;
  let outlookId: string;
  let imapId: string;
  const imapAddress = `multi-select-${randomBytes(5).toString('hex')}@example.test`;

  const list = () => s.page.locator('[aria-label="Messages"]');
  const rows = () => list().getByRole('option');
  const count = () => s.page.getByTestId('selection-count');

  /** the mirror's messages of the account by folder well-known name */
  const mirrorCounts = async (accountId: string) => {
    const r = await db.query<{ name: string; n: number }>(
      `SELECT coalesce(f.well_known_name, f.remote_id) AS name, count(m.remote_id)::int AS n
         FROM mail_folders f LEFT JOIN messages m ON m.account_id = f.account_id AND m.folder_remote_id = f.remote_id
        WHERE f.account_id = $1 AND coalesce(f.well_known_name, '') IN ('inbox', 'archive')
        GROUP BY 1`,
      [accountId],
    );
    return Object.fromEntries(r.rows.map((x) => [x.name, x.n]));
  };

  beforeAll(async () => {
    const server = devMailServer();
    if (!server) throw new Error('the stack mail server is not configured (MAIL_*, DEV_MAIL_PASSWORD)');
    mail = server;
    ensureDashboardBuild();
    const fillImap = fillMailbox(devMailTarget(mail, imapAddress), {
      folders: [{ path: ['INBOX'], messages: MESSAGES, kind: 'inbox' }],
      seed: 23,
      sessions: 8,
    });
    product = await startProduct({ appEnv: { LOG_LEVEL: 'warn' } });
    await product.emulator.admin('POST', '/_emulator/mailboxes', {
      address: OUTLOOK,
      displayName: 'Noor Haddad',
      password: OUTLOOK_PASSWORD,
      seed: { messages: 0, folders: 0 },
    });
    // 1,200 messages through the emulator's admin API, eight at a time
    const now = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < MESSAGES) {
          const i = next++;
          await product.emulator.admin('POST', `/_emulator/mailboxes/${OUTLOOK}/messages`, {
            subject: `Weekly report ${i + 1}`,
            from: { emailAddress: { name: 'Reports', address: 'reports@contoso.example' } },
            body: { contentType: 'text', content: `Report number ${i + 1}.` },
            isRead: i % 3 === 0,
            receivedDateTime: new Date(now - i * 60_000).toISOString(),
          });
        }
      }),
    );
    expect(await fillImap).toMatchObject({ filled: true, appended: MESSAGES });

    ({ token, email } = await signUp(product.api, `select-${randomBytes(3).toString('hex')}@example.test`));
    // the consent ends on the dashboard's `#/accounts?linked=<id>`
    const linked = await linkOutlook(product, token, OUTLOOK, OUTLOOK_PASSWORD);
    outlookId = /linked=([0-9a-f-]{36})/.exec(linked)?.[1] ?? linked;
    imapId = await linkDevImap(product.api, token, mail, imapAddress);
    for (const accountId of [outlookId, imapId]) {
      await waitForAccountStatus(product.api, token, 'synced', { accountId, timeoutMs: 180_000 });
    }
    db = new Client({ connectionString: product.databaseUrl });
    await db.connect();
    expect(await mirrorCounts(outlookId)).toEqual({ inbox: MESSAGES, archive: 0 });
    expect(await mirrorCounts(imapId)).toEqual({ inbox: MESSAGES, archive: 0 });
    s = await openBrowser({
      baseUrl: product.api,
      name: 'dashboard-multi-select',
      viewport: { width: 1280, height: 800 },
    });
    await signInThroughUi(s.page, email, PASSWORD);
    // the "verify your address" banner is not what the screenshot is about
    const later = s.page.getByRole('button', { name: 'Later' });
    if (
      await later.waitFor({ timeout: 5000 }).then(
        () => true,
        () => false,
      )
    )
      await later.click();
    // the sign-in's own redirects (to the first account, then its inbox) are over before a test opens an account
    await rows().first().waitFor();
  }, 300_000);

  afterAll(async () => {
    await db?.end();
    await s?.close();
    await product?.stop();
  });

  /**
   * Opens the account's inbox, ticks rows by checkbox, Shift, Ctrl and Space, then selects all of the inbox and
   * archives it; answers the status values the one status line went through.
   */
  async function selectAllAndArchive(accountId: string, screenshot?: string): Promise<string[]> {
    const { page } = s;
    // Outlook's is "Inbox", IMAP's "INBOX"
    const inbox = (
      await db.query<{ display_name: string }>(
        `SELECT display_name FROM mail_folders WHERE account_id = $1 AND well_known_name = 'inbox'`,
        [accountId],
      )
    ).rows[0].display_name;
    await page.goto(`/#/mail/${accountId}`);
    await page
      .getByRole('heading', { name: inbox, exact: true })
      .waitFor()
      .catch(async (err: Error) => {
        // what the page showed instead, for the failure message
        const text = (
          await page
            .locator('body')
            .innerText()
            .catch(() => '')
        ).slice(0, 600);
        throw new Error(`${err.message}\nURL ${page.url()}\npage text: ${text}`);
      });
    await rows().first().waitFor();

    // a checkbox ticks one; Shift ticks the range from it; Ctrl-click unticks one of them; Space on a box ticks it
    await rows().nth(0).getByRole('checkbox').click();
    expect(await count().textContent()).toBe('1 selected');
    await rows()
      .nth(4)
      .getByRole('checkbox')
      .click({ modifiers: ['Shift'] });
    expect(await count().textContent()).toBe('5 selected');
    await rows()
      .nth(2)
      .click({ modifiers: ['Control'] });
    expect(await count().textContent()).toBe('4 selected');
    expect(await rows().nth(2).getAttribute('data-checked')).toBe('false');
    await rows().nth(6).getByRole('checkbox').focus();
    await page.keyboard.press('Space');
    expect(await count().textContent()).toBe('5 selected');
    // a plain click still opens the message, and ticks nothing
    expect(page.url()).not.toMatch(/\/mail\/[^/]+\/[^/]+\/./);

    // every loaded row, then every message of the inbox: the server resolves it, the list loaded only a page
    await page.getByRole('checkbox', { name: 'Select all loaded messages' }).check();
    const loaded = Number(await list().getAttribute('data-loaded-count'));
    expect(loaded).toBeLessThan(MESSAGES);
    expect(await count().textContent()).toBe(`${loaded} selected`);
    await page
      .getByRole('button', { name: `Select all ${MESSAGES.toLocaleString('en-US')} in ${inbox}` })
      .click();
    expect(await count().textContent()).toBe(`All ${MESSAGES.toLocaleString('en-US')} in ${inbox} selected`);
    await page.mouse.move(1000, 700);
    if (screenshot) await page.screenshot({ path: screenshot });
    await s.shot(`${accountId}-all-selected`);

    const posted = page.waitForResponse(
      (r) => r.url().endsWith('/api/v1/commands/batches') && r.request().method() === 'POST',
    );
    await page
      .getByRole('toolbar', { name: 'Actions on the selection' })
      .getByRole('button', { name: 'Archive', exact: true })
      .click();
    const response = await posted;
    expect(response.status()).toBe(202);
    const sent = response.request().postDataJSON() as Record<string, unknown>;
    // a selection, not ids: the browser never held 1,200 ids
    expect(sent).toMatchObject({ action: 'move', selection: { excludeIds: [] } });
    expect(sent).not.toHaveProperty('messageIds');
    expect(await response.json()).toMatchObject({ messages: MESSAGES, commands: 3 });

    // one status line for the whole selection, whatever its three commands report
    const status = page.locator('.mail-batch-status');
    const seen: string[] = [];
    await waitFor(
      async () => {
        expect(await status.count()).toBe(1);
        const value = (await status.getAttribute('data-batch-status')) ?? '';
        if (seen[seen.length - 1] !== value) seen.push(value);
        return value === 'done' || value === 'failed' ? value : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 100, what: 'the batch to finish' },
    );
    expect(seen[seen.length - 1]).toBe('done');
    expect(await status.textContent()).toContain(`Archived: ${MESSAGES.toLocaleString('en-US')} messages`);
    expect(await page.locator('.toast, [role="alert"]').count()).toBe(0);
    await s.shot(`${accountId}-archived`);

    // stored as one batch of three commands of at most 500 ids, each done
    const stored = await db.query<{ message_count: number; command_count: number; statuses: string[] }>(
      `SELECT b.message_count, b.command_count, array_agg(c.status ORDER BY c.status) AS statuses
         FROM mail_command_batches b JOIN mail_commands c ON c.batch_id = b.id
        WHERE b.account_id = $1 GROUP BY b.id`,
      [accountId],
    );
    expect(stored.rows).toEqual([
      { message_count: MESSAGES, command_count: 3, statuses: ['done', 'done', 'done'] },
    ]);
    await page.getByText('No messages in this folder.').waitFor({ timeout: 30_000 });
    s.expectNoConsoleErrors();
    return seen;
  }

  it('Outlook: select all 1,200 in the inbox and archive them: one status, all 1,200 archived in the export and the mirror', async () => {
    const seen = await selectAllAndArchive(outlookId, SCREENSHOT);
    process.stdout.write(`Outlook batch status line: ${seen.join(' -> ')}\n`);
    const exported = await product.emulator.admin<Exported>(
      'GET',
      `/_emulator/mailboxes/${OUTLOOK}/export?bodies=false`,
    );
    const folderOf = (wk: string) => exported.folders.find((f) => f.wellKnownName === wk)!.id;
    const inFolder = (wk: string) =>
      exported.messages.filter((m) => m.parentFolderId === folderOf(wk)).length;
    expect({ inbox: inFolder('inbox'), archive: inFolder('archive') }).toEqual({
      inbox: 0,
      archive: MESSAGES,
    });
    await waitFor(
      async () => {
        const counts = await mirrorCounts(outlookId);
        return counts.inbox === 0 && counts.archive === MESSAGES ? counts : undefined;
      },
      { timeoutMs: 60_000, what: 'the mirror to hold the 1,200 in Archive' },
    );
  }, 300_000);

  it('IMAP: select all 1,200 in the inbox and archive them: one status, all 1,200 in Archive on the server and the mirror', async () => {
    const seen = await selectAllAndArchive(imapId);
    process.stdout.write(`IMAP batch status line: ${seen.join(' -> ')}\n`);
    const client = devImapSession(mail, imapAddress);
    await client.connect();
    try {
      const boxes = await client.list({ statusQuery: { messages: true } });
      const messagesIn = (p: string) => boxes.find((b) => b.path === p)?.status?.messages;
      expect({ inbox: messagesIn('INBOX'), archive: messagesIn('Archive') }).toEqual({
        inbox: 0,
        archive: MESSAGES,
      });
    } finally {
      await client.logout().catch(() => client.close());
    }
    await waitFor(
      async () => {
        const counts = await mirrorCounts(imapId);
        return counts.inbox === 0 && counts.archive === MESSAGES ? counts : undefined;
      },
      { timeoutMs: 60_000, what: 'the mirror to hold the 1,200 in Archive' },
    );
  }, 300_000);
});
