import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { bulkMailboxFolders, fillMailbox, type DemoMailboxResult } from '@email-core/stack';
import {
  devImapSession,
  devMailServer,
  devMailTarget,
  linkDevImap,
  mirroredImapState,
  serverImapState,
  signUp,
  startProduct,
  waitFor,
  waitForAccountStatus,
  type DevMailServer,
  type ImapMailboxState,
  type RunningProduct,
} from '@email-core/testing';

const MESSAGES = 5_000;

/**
 * The initial sync of a large IMAP mailbox, end to end on the real stack: the test fills a fresh dev mailbox through
 * IMAP sessions of its own (APPEND; the mail generator of the demo mailbox) with 5,000 messages in eight folders,
 * nested ones included, with flags, HTML bodies, attachments and encoded-word headers; links it through the API;
 * waits for `synced`; then the mirror in Postgres must equal a ground-truth read of the server (folders with
 * their nesting and counts; every message by UID with its flags, subject, sender and body).
 */
describe('IMAP sync of a 5,000-message mailbox (real stack and mail server)', () => {
  let mail: DevMailServer;
  let product: RunningProduct;
  let db: Client;
  let filled: DemoMailboxResult;
  let fillSeconds: number;
  let truth: ImapMailboxState;
  const address = `imap-sync-${randomBytes(5).toString('hex')}@example.test`;
  const folders = bulkMailboxFolders(MESSAGES);

  beforeAll(async () => {
    const server = devMailServer();
    if (!server)
      throw new Error(
        'no dev mail server: run `npm run stack:up` (MAIL_IMAP in .stack/endpoints.env, DEV_MAIL_PASSWORD)',
      );
    mail = server;
    const fill = async () => {
      const t0 = performance.now();
      filled = await fillMailbox(devMailTarget(mail, address), {
        folders,
        seed: 19,
        now: new Date('2026-12-01T09:00:00Z'),
        sessions: 8,
      });
      fillSeconds = (performance.now() - t0) / 1000;
    };
    // the product starts while the mailbox fills
    [product] = await Promise.all([startProduct({ appEnv: { LOG_LEVEL: 'warn' } }), fill()]);
    db = new Client({ connectionString: product.databaseUrl });
    await db.connect();
    truth = await serverImapState(mail, address);
  }, 150_000);

  afterAll(async () => {
    await db?.end();
    await product?.stop();
  });

  it('fills the mailbox through its own IMAP sessions: 5,000 messages in 8 folders in well under a minute', async () => {
    process.stdout.write(
      `imap-sync: filled ${filled.appended} messages in ${fillSeconds.toFixed(1)} s ` +
        `(${Math.round(filled.appended / fillSeconds)} msg/s, 8 sessions)\n`,
    );
    expect(filled).toMatchObject({ filled: true, appended: MESSAGES, total: MESSAGES });
    expect(fillSeconds).toBeLessThan(60);

    // the ground truth: eight folders with mail, nested ones under their parents, every count as generated
    const counts = Object.fromEntries(
      truth.folders.filter((f) => f.total > 0).map((f) => [f.path, f.total] as const),
    );
    expect(counts).toEqual(Object.fromEntries(folders.map((f) => [f.path.join('/'), f.messages])));
    expect(Object.keys(counts)).toHaveLength(8);
    const parentOf = (path: string) => truth.folders.find((f) => f.path === path)?.parent;
    expect(parentOf('INBOX/Projects/2026')).toBe('INBOX/Projects');
    expect(parentOf('INBOX/Projects')).toBe('INBOX');
    expect(parentOf('Archive/2025')).toBe('Archive');
    expect(parentOf('Lists/dev')).toBe('Lists');
    expect(truth.messages).toHaveLength(MESSAGES);

    // what the messages carry: both read states, flags, HTML and text bodies, attachments, non-ASCII headers
    const m = truth.messages;
    const nonAscii = (s: string) => [...s].some((c) => c.charCodeAt(0) > 0x7f);
    expect(m.filter((x) => !x.isRead).length).toBeGreaterThan(300);
    expect(m.filter((x) => x.isRead).length).toBeGreaterThan(3000);
    expect(m.filter((x) => x.flagStatus === 'flagged').length).toBeGreaterThan(100);
    expect(m.filter((x) => x.body === 'html').length).toBeGreaterThan(1000);
    expect(m.filter((x) => x.body === 'text').length).toBeGreaterThan(1000);
    expect(m.filter((x) => x.hasAttachments).length).toBeGreaterThan(200);
    expect(m.filter((x) => nonAscii(x.subject)).length).toBeGreaterThan(300);
    expect(m.filter((x) => nonAscii(x.fromName)).length).toBeGreaterThan(1000);
    expect(m.map((x) => x.subject)).toContain('会议纪要');

    // on the wire those headers are RFC 2047 encoded-words (what the sync has to decode)
    const sample = m.find((x) => nonAscii(x.subject) && nonAscii(x.fromName));
    if (!sample) throw new Error('no message with a non-ASCII subject and sender');
    const client = devImapSession(mail, address);
    await client.connect();
    try {
      await client.mailboxOpen(sample.folder, { readOnly: true });
      const header = await client.fetchOne(
        String(sample.uid),
        { headers: ['subject', 'from'] },
        { uid: true },
      );
      // unfolded: a long header continues on the next line
      const raw = (header ? (header.headers?.toString('latin1') ?? '') : '').replace(/\r?\n[ \t]+/g, ' ');
      expect(raw).toMatch(/^Subject: .*=\?UTF-8\?[QB]\?/im);
      expect(raw).toMatch(/^From: .*=\?UTF-8\?[QB]\?/im);
      expect([...raw].every((c) => c.charCodeAt(0) < 0x80)).toBe(true);
    } finally {
      await client.logout().catch(() => client.close());
    }
  });

  it('links it through the API, syncs it, and the mirror equals the server: folders, UIDs, flags, subjects, senders, bodies', async () => {
    const user = await signUp(product.api);
    const t0 = performance.now();
    const accountId = await linkDevImap(product.api, user.token, mail, address);
    await waitForAccountStatus(product.api, user.token, 'synced', {
      accountId,
      timeoutMs: 150_000,
      intervalMs: 250,
    });
    const seconds = (performance.now() - t0) / 1000;
    process.stdout.write(
      `imap-sync: link → synced ${MESSAGES} messages in ${seconds.toFixed(1)} s ` +
        `(${Math.round(MESSAGES / seconds)} msg/s)\n`,
    );

    // `synced` is written with the last page; the mirror is then read back as a whole
    const mirror = await waitFor(
      async () => {
        const state = await mirroredImapState(db, accountId);
        return JSON.stringify(state) === JSON.stringify(truth) ? state : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 1_000, what: 'the mirror to equal the server' },
    ).catch(() => mirroredImapState(db, accountId));
    expect(mirror.folders).toEqual(truth.folders);
    expect(mirror.messages).toHaveLength(truth.messages.length);
    expect(mirror).toEqual(truth);
  }, 200_000);
});
