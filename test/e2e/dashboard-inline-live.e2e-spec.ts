import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import { Client } from 'pg';
import { io, type Socket } from 'socket.io-client';
import { REALTIME_PATH, type DomainEvent, type MailChanged } from '@email-core/contracts';
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

const PASSWORD = 'correct horse battery staple';
const OUTLOOK = 'ines.moreau@inline.example';
const OUTLOOK_PASSWORD = 'ines-mailbox-password';
const tag = randomBytes(4).toString('hex');
const IMAP = `inline-${tag}@inline-live.example`;
const EMPTY_STATE_SHOT = path.resolve(__dirname, '../../docs/screenshots/empty-state.png');
const INLINE_SHOT = path.resolve(__dirname, '../../docs/screenshots/inline-image.png');

/** two colours, left and right half: what the picture on screen must show where the image is */
const LEFT = [224, 48, 30] as const;
const RIGHT = [30, 80, 224] as const;
const IMAGE = { width: 48, height: 32 };

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (buf: Buffer) => {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};

/** A true-colour PNG, left half LEFT, right half RIGHT (written here, so the test knows every byte). */
function twoTonePng(): Buffer {
  const { width, height } = IMAGE;
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 3 + 1)] = 0;
    for (let x = 0; x < width; x++) {
      const [r, g, b] = x < width / 2 ? LEFT : RIGHT;
      raw.set([r, g, b], y * (width * 3 + 1) + 1 + x * 3);
    }
  }
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const PNG = twoTonePng();
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** the HTML body of a mail that shows its logo inline */
const inlineHtml = (cid: string) =>
  `<html><body><p>Our new logo, inline:</p><p><img src="cid:${cid}" alt="logo" width="${IMAGE.width}" height="${IMAGE.height}"></p><p>Regards, Ines</p></body></html>`;

/** the same mail as IMAP holds it: multipart/related, the picture a part with a Content-ID */
function inlineMime(subject: string, cid: string): string {
  const boundary = `rel-${tag}`;
  const b64 = PNG.toString('base64').replace(/.{1,76}/g, '$&\r\n');
  return [
    'From: Ines Moreau <ines@sender.example>',
    `To: ${IMAP}`,
    `Subject: ${subject}`,
    `Message-ID: <${randomBytes(6).toString('hex')}@sender.example>`,
    `Date: ${new Date().toUTCString()}`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/related; boundary="${boundary}"; type="text/html"`,
    '',
    `--${boundary}`,
    'Content-Type: text/html; charset=utf-8',
    '',
    inlineHtml(cid),
    `--${boundary}`,
    'Content-Type: image/png; name="logo.png"',
    'Content-Transfer-Encoding: base64',
    `Content-ID: <${cid}>`,
    'Content-Disposition: inline; filename="logo.png"',
    '',
    b64,
    `--${boundary}--`,
    '',
  ].join('\r\n');
}

const plainMime = (i: number) =>
  [
    `From: Sender ${i} <sender${i}@elsewhere.example>`,
    `To: ${IMAP}`,
    `Subject: History ${i}`,
    `Message-ID: <history-${i}-${tag}@elsewhere.example>`,
    `Date: ${new Date(Date.now() - (i + 1) * 3_600_000).toUTCString()}`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    `Message number ${i}.`,
    '',
  ].join('\r\n');

/**
 * Records, in every document the tab loads, each toast's text as it appears (toasts leave after a few seconds), so
 * a test can say which toasts were shown since a point.
 */
const TOAST_RECORDER = `
(() => {
  const seen = (window.__toasts = []);
  const record = () => {
    for (const el of document.querySelectorAll('[data-testid="toast"]')) {
      if (el.__recorded) continue;
      el.__recorded = true;
      seen.push(el.textContent || '');
    }
  };
  new MutationObserver(record).observe(document, { subtree: true, childList: true, characterData: true });
})();
`;

/** what the probe copy of the reader's frame (same document, same origin, no script) says of the logo */
const PROBE_IMAGE = `(() => {
  const frame = document.querySelector('iframe.mail-frame-probe');
  const img = frame && frame.contentDocument && frame.contentDocument.querySelector('img[alt="logo"]');
  if (!img) return null;
  const r = img.getBoundingClientRect();
  return { complete: img.complete, naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight,
    src: img.getAttribute('src') || '', x: r.x, y: r.y, width: r.width, height: r.height };
})()`;

interface ProbeImage {
  complete: boolean;
  naturalWidth: number;
  naturalHeight: number;
  src: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

interface AccountBody {
  id: string;
  status: string;
  syncProgress: {
    foldersTotal: number;
    foldersDone: number;
    messagesSynced: number;
    messagesTotal: number;
    at: string;
  } | null;
}

/**
 * Issue 23's smaller pieces in real headless Chromium against the real stack, for an Outlook account (the emulator)
 * and an IMAP account (the stack's Dovecot): the empty state of a user with no mailbox fills the view; a reload in
 * the middle of a first sync shows its progress from `GET /accounts` (the worker is paused meanwhile, so no event
 * can be what shows it); a received mail's `cid:` image renders, its pixels and bytes the attachment's; a new mail
 * shows a toast from its `created` change, and a flag change of that mail (unread, fresh, in the inbox: what the old
 * guess took for new mail) shows none.
 */
describe('dashboard: inline images, empty state, progress after reload, new-mail toasts (Outlook and IMAP)', () => {
  let product: RunningProduct;
  let s: BrowserSession;
  let db: Client;
  let mail: DevMailServer;
  let token: string;
  let socket: Socket | undefined;
  const events: Array<{ event: DomainEvent; at: number }> = [];
  const accounts: Record<'outlook' | 'imap', string> = { outlook: '', imap: '' };

  const mailChanged = (accountId: string) =>
    events
      .map((e) => e.event)
      .filter((e): e is MailChanged => e.type === 'mail.changed' && e.accountId === accountId);
  const toasts = () => s.page.evaluate<string[]>('window.__toasts || []');
  const accountList = async () =>
    (await apiCall<{ items: AccountBody[] }>(product.api, 'GET', '/api/v1/accounts', { token })).body.items;

  /**
   * The test's own init script (TOAST_RECORDER) is offered to every frame the tab loads, the mail's sandboxed srcdoc
   * frame too, which refuses it (no allow-scripts) with "Blocked script execution in 'about:srcdoc'" when Chromium
   * gets to try it there: the sandbox doing its job against the test's script (the sanitized mail has none), so that
   * one message is left out; any other console error still fails the test.
   */
  const expectNoConsoleErrors = () => {
    const own = /^Blocked script execution in 'about:srcdoc' because the document's frame is sandboxed/;
    for (let i = s.consoleErrors.length - 1; i >= 0; i--)
      if (own.test(s.consoleErrors[i])) s.consoleErrors.splice(i, 1);
    s.expectNoConsoleErrors();
  };

  beforeAll(async () => {
    ensureDashboardBuild();
    const server = devMailServer();
    if (!server) throw new Error('no dev mail server: run `npm run stack:up` (MAIL_IMAP, MAIL_SUBMISSION)');
    mail = server;
    product = await startProduct({
      isolated: true,
      // small pages and a report per page: a first sync of a few hundred messages is a run of progress reports
      // (and IMAP folders beyond IDLE's polled every 5 s: the move test's Archive)
      appEnv: {
        SYNC_PAGE_SIZE: '20',
        SYNC_PROGRESS_EVERY_PAGES: '1',
        SYNC_FOLDER_PARALLELISM: '1',
        IMAP_STATUS_POLL_SECONDS: '5',
      },
    });
    db = new Client({ connectionString: product.databaseUrl });
    await db.connect();
    await product.emulator.admin('POST', '/_emulator/mailboxes', {
      address: OUTLOOK,
      displayName: 'Ines Moreau',
      password: OUTLOOK_PASSWORD,
      seed: { messages: 400, folders: 2, seed: 2323 },
    });
    s = await openBrowser({ baseUrl: product.api, name: 'dashboard-inline-live' });
    await s.page.addInitScript(TOAST_RECORDER);
  }, 240_000);

  afterAll(async () => {
    // a failed test must not leave the worker paused
    product?.consumer.child.kill('SIGCONT');
    socket?.disconnect();
    await db?.end();
    await s?.close();
    await product?.stop();
  });

  it('with no mailbox linked, "No mailbox yet" fills the whole view', async () => {
    const { page } = s;
    await signUpThroughUi(page, `inline-${tag}@example.test`, PASSWORD);
    const heading = page.getByRole('heading', { name: 'No mailbox yet' });
    await heading.waitFor();
    await page.waitForLoadState('networkidle');
    const view = (await page.locator('main.mail-page').boundingBox())!;
    const box = (await page.locator('.mail-empty-state').boundingBox())!;
    const viewport = page.viewportSize()!;
    // the view spans the window's width, and the empty state sits in its middle, not in a 220 px folder column
    expect(view.width).toBeGreaterThan(viewport.width - 20);
    expect(Math.abs(box.x + box.width / 2 - (view.x + view.width / 2))).toBeLessThan(4);
    expect(Math.abs(box.y + box.height / 2 - (view.y + view.height / 2))).toBeLessThan(4);
    expect(box.width).toBeGreaterThan(300);
    await page.screenshot({ path: EMPTY_STATE_SHOT });
    // at phone width too
    await page.setViewportSize({ width: 360, height: 740 });
    const narrow = (await page.locator('.mail-empty-state').boundingBox())!;
    expect(Math.abs(narrow.x + narrow.width / 2 - 180)).toBeLessThan(4);
    await s.shot('empty-state-phone');
    await page.setViewportSize(viewport);
    await page.getByRole('link', { name: 'Connect an account' }).waitFor();

    const signIn = await apiCall<{ accessToken: string }>(product.api, 'POST', '/api/v1/auth/signin', {
      body: { email: `inline-${tag}@example.test`, password: PASSWORD },
    });
    token = signIn.body.accessToken;
    socket = await new Promise<Socket>((resolve, reject) => {
      const client = io(product.api, { path: REALTIME_PATH, auth: { token }, transports: ['websocket'] });
      client.onAny((_name: string, event: DomainEvent) => events.push({ event, at: Date.now() }));
      client.once('connect', () => resolve(client));
      client.once('connect_error', reject);
    });
    expectNoConsoleErrors();
  });

  /**
   * Links a mailbox with `link`, and once its first sync has reported progress pauses the worker (SIGSTOP): the
   * account keeps the report `GET /accounts` answers, no other can come. The reloaded page must show exactly it.
   */
  async function reloadDuringFirstSync(provider: 'outlook' | 'imap', link: () => Promise<string>) {
    const { page } = s;
    await page.goto('/#/accounts');
    const before = events.length;
    const accountId = await link();
    accounts[provider] = accountId;
    const consumer = product.consumer.child;
    let stored: AccountBody['syncProgress'] = null;
    for (let attempt = 0; attempt < 20 && !stored; attempt++) {
      const seen = events.length;
      await waitFor(
        () =>
          Promise.resolve(
            events
              .slice(Math.max(before, seen))
              .some((e) => e.event.type === 'sync.progress' && e.event.accountId === accountId) || undefined,
          ),
        { timeoutMs: 60_000, intervalMs: 5, what: `a sync.progress of the ${provider} account` },
      );
      consumer.kill('SIGSTOP');
      // what was published before the pause has reached the sockets by now
      await new Promise((r) => setTimeout(r, 1500));
      const account = (await accountList()).find((a) => a.id === accountId)!;
      if (account.status === 'syncing' && account.syncProgress) stored = account.syncProgress;
      else consumer.kill('SIGCONT');
    }
    try {
      if (!stored) throw new Error(`no progress of the ${provider} account was kept while it synced`);
      expect(stored.messagesTotal).toBeGreaterThan(0);
      expect(stored.messagesSynced).toBeLessThan(stored.messagesTotal);
      const answered = page.waitForResponse(
        (r) => new URL(r.url()).pathname === '/api/v1/accounts' && r.request().method() === 'GET',
      );
      await page.reload();
      const body = (await (await answered).json()) as { items: AccountBody[] };
      expect(body.items.find((a) => a.id === accountId)?.syncProgress).toEqual(stored);
      const card = page.locator(`[data-testid="account-card"][data-status="syncing"]`).filter({
        has: page.getByText(`${stored.messagesSynced} / ${stored.messagesTotal} messages`),
      });
      await card.waitFor({ timeout: 10_000 });
      const bar = card.getByRole('progressbar');
      expect(Number(await bar.getAttribute('aria-valuenow'))).toBe(
        Math.round((stored.messagesSynced / stored.messagesTotal) * 100),
      );
      await s.shot(`${provider}-progress-after-reload`);
    } finally {
      consumer.kill('SIGCONT');
    }
    await waitForAccountStatus(product.api, token, 'synced', { accountId, timeoutMs: 180_000 });
    await page.locator(`[data-testid="account-card"][data-status="synced"]`).first().waitFor();
    expectNoConsoleErrors();
  }

  /** opens the mail in the account's inbox and checks its inline logo: loaded, the attachment's bytes and pixels */
  async function expectInlineImage(accountId: string, subject: string, screenshot?: string) {
    const { page } = s;
    await page.goto(`/#/mail/${encodeURIComponent(accountId)}`);
    const row = page.locator('[aria-label="Messages"]').getByRole('option').filter({ hasText: subject });
    await row.waitFor({ timeout: 60_000 });
    await row.click();
    await page.getByRole('heading', { name: subject }).waitFor();
    const probe = await waitFor(
      async () => {
        const p = await page.evaluate<ProbeImage | null>(PROBE_IMAGE);
        return p && p.complete && p.naturalWidth > 0 ? p : undefined;
      },
      { timeoutMs: 30_000, what: 'the inline image to load' },
    );
    expect([probe.naturalWidth, probe.naturalHeight]).toEqual([IMAGE.width, IMAGE.height]);
    // the bytes shown are the attachment's
    const [, b64] = /^data:image\/png;base64,(.*)$/s.exec(probe.src) ?? [];
    expect(b64).toBeDefined();
    expect(sha256(Buffer.from(b64, 'base64'))).toBe(sha256(PNG));
    // and the visible frame paints them: the screen where the picture is, left half and right half
    await page.waitForTimeout(200);
    const frame = (await page.locator('iframe.mail-frame').boundingBox())!;
    const clip = { x: frame.x + probe.x, y: frame.y + probe.y, width: probe.width, height: probe.height };
    const shot = (await page.screenshot({ clip })).toString('base64');
    const pixels = await page.evaluate<{ left: number[]; right: number[] }>(`(async () => {
      const img = new Image();
      img.src = 'data:image/png;base64,${shot}';
      await img.decode();
      const c = document.createElement('canvas');
      c.width = img.naturalWidth; c.height = img.naturalHeight;
      const g = c.getContext('2d');
      g.drawImage(img, 0, 0);
      const at = (x, y) => Array.from(g.getImageData(Math.floor(x * c.width), Math.floor(y * c.height), 1, 1).data.slice(0, 3));
      return { left: at(0.25, 0.5), right: at(0.75, 0.5) };
    })()`);
    const near = (got: number[], want: readonly number[]) => got.every((v, i) => Math.abs(v - want[i]) <= 12);
    expect({ left: near(pixels.left, LEFT), right: near(pixels.right, RIGHT), pixels }).toMatchObject({
      left: true,
      right: true,
    });
    // an inline image is part of the mail: nothing to allow
    expect(await page.getByText('Remote images blocked').count()).toBe(0);
    if (screenshot) await page.screenshot({ path: screenshot });
    await s.shot('inline-image');
    expectNoConsoleErrors();
  }

  /**
   * A mail delivered now (by `deliver`) shows a "New mail" toast, announced as `created`; after a reload (a fresh tab
   * state), `flag` flags it, announced as `upserted`, and no toast names it.
   */
  async function expectToastOnlyForNewMail(
    accountId: string,
    subject: string,
    deliver: () => Promise<void>,
    flag: (remoteId: string) => Promise<void>,
  ) {
    const { page } = s;
    await page.goto(`/#/mail/${encodeURIComponent(accountId)}`);
    await page.locator('[aria-label="Messages"]').getByRole('option').first().waitFor({ timeout: 30_000 });
    await deliver();
    const remoteId = await waitFor(
      async () =>
        (
          await db.query<{ remote_id: string }>(
            'SELECT remote_id FROM messages WHERE account_id = $1 AND subject = $2',
            [accountId, subject],
          )
        ).rows[0]?.remote_id,
      { timeoutMs: 60_000, what: `${subject} in the mirror` },
    );
    const created = await waitFor(
      () =>
        Promise.resolve(
          mailChanged(accountId)
            .flatMap((e) => e.changes)
            .find((c) => c.messageId === remoteId),
        ),
      { timeoutMs: 30_000, what: 'the mail.changed of the new mail' },
    );
    expect(created.kind).toBe('created');
    await waitFor(
      async () =>
        (await toasts()).some((t) => t.includes('New mail') && t.includes(subject)) ? true : undefined,
      { timeoutMs: 30_000, what: `a "New mail" toast for ${subject}` },
    );
    await s.shot('new-mail-toast');

    // A new tab state: the old guess would take the flagged mail (unread, received a minute ago, in the inbox,
    // not announced in this tab) for new mail.
    await page.reload();
    await page.locator('[aria-label="Messages"]').getByRole('option').filter({ hasText: subject }).waitFor();
    const seq = Math.max(0, ...mailChanged(accountId).map((e) => e.seq));
    await flag(remoteId);
    const flagged = await waitFor(
      () =>
        Promise.resolve(
          mailChanged(accountId)
            .filter((e) => e.seq > seq)
            .flatMap((e) => e.changes)
            .find((c) => c.messageId === remoteId),
        ),
      { timeoutMs: 60_000, what: 'the mail.changed of the flag change' },
    );
    expect(flagged.kind).toBe('upserted');
    // the list shows the flag (the event was handled), and a toast would have come by now
    await page
      .locator('[aria-label="Messages"]')
      .getByRole('option')
      .filter({ hasText: subject })
      .getByLabel(/flagged/i)
      .first()
      .waitFor({ timeout: 15_000 })
      .catch(() => undefined);
    await page.waitForTimeout(2500);
    expect((await toasts()).filter((t) => t.includes(subject))).toEqual([]);
    expectNoConsoleErrors();
  }

  /**
   * An unread mail `place`d in the account's Archive, then moved into the inbox at the provider by `moveIn` (the user
   * in another client, a rule): the move's change in the inbox is `upserted` (IMAP: under a new UID, a row new to
   * the mirror), never `created`, and no toast names it (docs/realtime.md, "Arrival or move").
   */
  async function expectNoToastForMoveIn(
    accountId: string,
    subject: string,
    place: () => Promise<void>,
    moveIn: () => Promise<void>,
  ) {
    const { page } = s;
    await page.goto(`/#/mail/${encodeURIComponent(accountId)}`);
    await page.locator('[aria-label="Messages"]').getByRole('option').first().waitFor({ timeout: 30_000 });
    const inbox = (
      await db.query<{ remote_id: string }>(
        `SELECT remote_id FROM mail_folders WHERE account_id = $1 AND well_known_name = 'inbox'`,
        [accountId],
      )
    ).rows[0].remote_id;
    const rowIn = async (inInbox: boolean) =>
      (
        await db.query<{ remote_id: string }>(
          `SELECT remote_id FROM messages WHERE account_id = $1 AND subject = $2 AND (folder_remote_id = $3) = $4`,
          [accountId, subject, inbox, inInbox],
        )
      ).rows[0]?.remote_id;
    await place();
    await waitFor(() => rowIn(false), { timeoutMs: 60_000, what: `${subject} mirrored outside the inbox` });
    const seq = Math.max(0, ...mailChanged(accountId).map((e) => e.seq));
    await moveIn();
    const movedId = await waitFor(() => rowIn(true), { timeoutMs: 60_000, what: `${subject} in the inbox` });
    const change = await waitFor(
      () =>
        Promise.resolve(
          mailChanged(accountId)
            .filter((e) => e.seq > seq)
            .flatMap((e) => e.changes)
            .find((c) => c.messageId === movedId && c.folderId === inbox),
        ),
      { timeoutMs: 30_000, what: 'the mail.changed of the move into the inbox' },
    );
    expect(change.kind).toBe('upserted');
    // the list shows it (the event was handled, unread in the inbox), and a toast would have come by now
    await page
      .locator('[aria-label="Messages"]')
      .getByRole('option')
      .filter({ hasText: subject })
      .first()
      .waitFor({ timeout: 15_000 });
    await page.waitForTimeout(2500);
    expect((await toasts()).filter((t) => t.includes(subject))).toEqual([]);
    expectNoConsoleErrors();
  }

  it('Outlook: a reload in the middle of the first sync still shows its progress', async () => {
    // Graph answers slowly, as over a real network: the first sync takes a while
    await product.emulator.admin('POST', '/_emulator/faults', { latencyMs: 200 });
    try {
      await reloadDuringFirstSync('outlook', async () => {
        await linkOutlook(product, token, OUTLOOK, OUTLOOK_PASSWORD);
        return waitFor(async () => (await accountList())[0]?.id, {
          timeoutMs: 10_000,
          what: 'the Outlook account',
        });
      });
    } finally {
      await product.emulator.admin('POST', '/_emulator/faults', { latencyMs: 0 });
    }
  }, 300_000);

  it("Outlook: a received mail's inline image renders, and its arrival shows a toast while a flag change does not", async () => {
    const subject = `Logo inline ${tag}`;
    const cid = `logo-${tag}@inline.example`;
    await expectToastOnlyForNewMail(
      accounts.outlook,
      subject,
      async () => {
        await product.emulator.admin('POST', `/_emulator/mailboxes/${OUTLOOK}/messages`, {
          subject,
          from: { emailAddress: { name: 'Ines Moreau', address: 'ines@sender.example' } },
          body: { contentType: 'html', content: inlineHtml(cid) },
          attachments: [
            {
              name: 'logo.png',
              contentType: 'image/png',
              contentBytes: PNG.toString('base64'),
              isInline: true,
              contentId: cid,
            },
          ],
        });
      },
      async (remoteId) => {
        await product.emulator.admin('PATCH', `/_emulator/mailboxes/${OUTLOOK}/messages/${remoteId}`, {
          flag: { flagStatus: 'flagged' },
        });
      },
    );
    // the attachment list names it with its Content-ID
    const listed = await apiCall<{ items: Array<{ contentId: string | null; isInline: boolean }> }>(
      product.api,
      'GET',
      `/api/v1/messages/${encodeURIComponent(
        (
          await db.query<{ remote_id: string }>('SELECT remote_id FROM messages WHERE subject = $1', [
            subject,
          ])
        ).rows[0].remote_id,
      )}/attachments`,
      { token },
    );
    expect(listed.body.items).toEqual([expect.objectContaining({ contentId: cid, isInline: true })]);
    await expectInlineImage(accounts.outlook, subject, INLINE_SHOT);
  }, 180_000);

  it('Outlook: an unread mail moved into the inbox by another client is no new mail (no toast)', async () => {
    const subject = `Moved back in ${tag}`;
    let id = '';
    await expectNoToastForMoveIn(
      accounts.outlook,
      subject,
      async () => {
        id = (
          await product.emulator.admin<{ id: string }>('POST', `/_emulator/mailboxes/${OUTLOOK}/messages`, {
            subject,
            folder: 'archive',
            isRead: false,
            from: { emailAddress: { name: 'Ines Moreau', address: 'ines@sender.example' } },
          })
        ).id;
      },
      async () => {
        await product.emulator.admin('POST', `/_emulator/mailboxes/${OUTLOOK}/messages/${id}/move`, {
          destinationId: 'inbox',
        });
      },
    );
  }, 180_000);

  it('IMAP: a reload in the middle of the first sync still shows its progress', async () => {
    await withDevImapSession(mail, IMAP, async (client) => {
      for (let i = 0; i < 500; i++) await client.append('INBOX', plainMime(i), ['\\Seen']);
    });
    await reloadDuringFirstSync('imap', () => linkDevImap(product.api, token, mail, IMAP));
  }, 300_000);

  it("IMAP: a received mail's inline image renders, and its arrival shows a toast while a flag change does not", async () => {
    const subject = `Logo inline over IMAP ${tag}`;
    const cid = `logo-imap-${tag}@inline.example`;
    await expectToastOnlyForNewMail(
      accounts.imap,
      subject,
      async () => {
        await withDevImapSession(mail, IMAP, async (client) => {
          await client.append('INBOX', inlineMime(subject, cid));
        });
      },
      async () => {
        await withDevImapSession(mail, IMAP, async (client) => {
          const lock = await client.getMailboxLock('INBOX');
          try {
            const uids = await client.search({ subject }, { uid: true });
            expect(uids).toHaveLength(1);
            await client.messageFlagsAdd(String((uids as number[])[0]), ['\\Flagged'], { uid: true });
          } finally {
            lock.release();
          }
        });
      },
    );
    await expectInlineImage(accounts.imap, subject);
  }, 180_000);

  it('IMAP: an unread mail moved into the inbox by another client (a new UID) is no new mail (no toast)', async () => {
    const subject = `Moved back in over IMAP ${tag}`;
    await expectNoToastForMoveIn(
      accounts.imap,
      subject,
      async () => {
        await withDevImapSession(mail, IMAP, async (client) => {
          await client.append('Archive', inlineMime(subject, `moved-${tag}@inline.example`));
        });
      },
      async () => {
        await withDevImapSession(mail, IMAP, async (client) => {
          const lock = await client.getMailboxLock('Archive');
          try {
            const uids = await client.search({ subject }, { uid: true });
            expect(uids).toHaveLength(1);
            await client.messageMove(String((uids as number[])[0]), 'INBOX', { uid: true });
          } finally {
            lock.release();
          }
        });
      },
    );
  }, 180_000);
});
